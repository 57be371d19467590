"""Writes `prebuilt.json`: what the fast paths of `cli/fast.py` need without loading
cyclopts or pydantic, taken from the real command tree and wire models.

    python -m linkpay.cli.prebuild          # after changing a command, flag or wire model

- `help`: the `--help` text of the root, every group and every command, exactly as
  cyclopts prints it to a non-terminal 80 columns wide;
- `positional`: the positional input fields of every command (for `_next` hints);
- `shapes`: the response models the fast `spend-request retrieve` decodes (field order,
  types, constraints, defaults, extra handling), see `cli/plain.py`.

`tests/cli/test_cli_fast.py` fails when the file is stale.
"""

import io
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from linkpay.cli.prebuilt import PREBUILT_FILE

# The response models decoded without pydantic, and the one field validator they use.
SHAPE_ROOTS = ("SpendRequest",)
HELP_WIDTH = 80


def render_help(tokens: list[str]) -> str:
    """What `link-cli TOKENS --help` prints through cyclopts onto a plain 80-column file."""
    from rich.console import Console

    from linkpay.cli.context import Context
    from linkpay.cli.registry import load_commands
    from linkpay.cli.tree import build_app

    app = build_app(load_commands(), Context(stderr=io.StringIO()))
    buffer = io.StringIO()
    app([*tokens, "--help"], console=Console(file=buffer, width=HELP_WIDTH))
    return buffer.getvalue()


def help_texts() -> dict[str, str]:
    from linkpay.cli.registry import load_commands

    paths: set[tuple[str, ...]] = {()}
    for cmd in load_commands():
        for depth in range(1, len(cmd.path) + 1):
            paths.add(cmd.path[:depth])
    return {" ".join(path): render_help(list(path)) for path in sorted(paths)}


def positional() -> dict[str, list[str]]:
    from linkpay.cli.registry import load_commands

    table = {}
    for cmd in load_commands():
        names = [name for name in cmd.input.model_fields if cmd.flag_meta(name).positional]
        if names:
            table[cmd.name] = names
    return table


class ShapeError(TypeError):
    """A wire model uses something `cli/plain.py` cannot reproduce: teach both first."""


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    import annotated_types as at

    out: dict[str, Any] = {}
    for item in metadata:
        for kind, attr, key in (
            (at.MinLen, "min_length", "min"),
            (at.MaxLen, "max_length", "max"),
            (at.Ge, "ge", "ge"),
            (at.Le, "le", "le"),
            (at.Gt, "gt", "gt"),
            (at.Lt, "lt", "lt"),
        ):
            if isinstance(item, kind):
                out[key] = getattr(item, attr)
                break
        else:
            raise ShapeError(f"unsupported constraint {item!r}")
    return out


def _type_spec(annotation: Any, metadata: list[Any], models: dict[str, Any]) -> dict[str, Any]:
    from pydantic import BaseModel

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) != 1:
            raise ShapeError(f"unsupported union {annotation!r}")
        return {"t": "opt", "of": _type_spec(rest[0], metadata, models)}
    if annotation is typing.Any:
        spec: dict[str, Any] = {"t": "any"}
    elif annotation in (str, int, bool):
        spec = {"t": annotation.__name__}
    elif origin is typing.Literal:
        if not all(type(value) is str for value in args):
            raise ShapeError(f"only string literals: {annotation!r}")
        spec = {"t": "lit", "v": list(args)}
    elif origin is list:
        spec = {"t": "list", "of": _type_spec(args[0], [], models)}
    elif origin is dict:
        if args[0] is not str:
            raise ShapeError(f"only str keys: {annotation!r}")
        spec = {"t": "dict", "of": _type_spec(args[1], [], models)}
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _collect(annotation, models)
        spec = {"t": "model", "name": annotation.__name__}
    else:
        raise ShapeError(f"unsupported type {annotation!r}")
    spec.update(_constraints(metadata))
    return spec


def _collect(model: Any, models: dict[str, Any]) -> None:
    """The shape of `model` (and the models it contains) into `models`."""
    from linkpay.wire.spend_requests import unix_seconds

    name = model.__name__
    if name in models:
        return
    models[name] = None  # placeholder against recursion
    config = {key: value for key, value in model.model_config.items() if key != "title"}
    if set(config) - {"extra"}:
        raise ShapeError(f"{name}: unsupported model_config {sorted(config)}")
    decorators = model.__pydantic_decorators__
    if (
        decorators.model_validators
        or decorators.field_serializers
        or decorators.model_serializers
        or decorators.computed_fields
        or decorators.root_validators
        or decorators.validators
    ):
        raise ShapeError(f"{name}: validators or serializers beyond unix_seconds")
    unix = []
    for validator in decorators.field_validators.values():
        if validator.func is not unix_seconds or validator.info.mode != "before":
            raise ShapeError(f"{name}: unsupported field validator {validator.cls_var_name}")
        unix += list(validator.info.fields)
    fields = []
    for field_name, info in model.model_fields.items():
        if info.alias not in (None, field_name) or info.serialization_alias not in (
            None,
            field_name,
        ):
            raise ShapeError(f"{name}.{field_name}: aliases are not supported")
        if info.exclude or getattr(info, "exclude_if", None) or info.discriminator:
            raise ShapeError(f"{name}.{field_name}: exclude/discriminator are not supported")
        if info.is_required():
            default: Any = "required"
        elif info.default_factory is not None:
            default = {"default": info.default_factory()}
        else:
            default = {"default": info.default}
        json.dumps(default)  # defaults must be plain JSON
        fields.append([field_name, _type_spec(info.annotation, info.metadata, models), default])
    models[name] = {"extra": config.get("extra") or "ignore", "fields": fields, "unix": unix}


def shapes() -> dict[str, Any]:
    import linkpay.wire as wire

    models: dict[str, Any] = {}
    for root in SHAPE_ROOTS:
        _collect(getattr(wire, root), models)
    return dict(sorted(models.items()))


def build() -> dict[str, Any]:
    return {
        "generated_by": "python -m linkpay.cli.prebuild (do not edit by hand)",
        "help": help_texts(),
        "positional": positional(),
        "shapes": shapes(),
    }


def write(path: Path = Path(PREBUILT_FILE)) -> None:
    path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write()
    sys.stdout.write(f"wrote {PREBUILT_FILE}\n")
