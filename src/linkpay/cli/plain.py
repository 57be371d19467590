"""Wire answers checked and shaped without pydantic, for the fast paths.

`decode("SpendRequest", data)` returns exactly what
`SpendRequest.model_validate(data).model_dump(mode="json", exclude_none=True)` would —
declared fields in model order, defaults filled in, `None` left out, extra keys kept
(`extra="allow"`) or dropped (`"ignore"`) — or raises `Unsure`. It accepts only values
already in their final form (a `str` where a `str` is declared, an `int` that is not a
`bool`, …) and every declared constraint; anything else, including answers pydantic
would coerce or reject, is `Unsure`, and the caller parses it with pydantic instead.
The shapes come from the models themselves (`prebuilt.json`), and
`tests/cli/test_cli_plain.py` compares both decoders on generated answers.

`Plain` wraps a decoded answer for code written against the model: attribute access
(a declared field that was left out reads as None) and `model_dump(mode="json",
exclude_none=True)`.
"""

from __future__ import annotations

import math

from linkpay.cli.prebuilt import shapes

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any


class Unsure(Exception):
    """The value is not one `decode` can vouch for; use the pydantic model."""


def decode(model: str, data: Any) -> dict[str, Any]:
    shape = shapes().get(model)
    if shape is None:
        raise Unsure  # not in prebuilt.json (or no prebuilt.json at all)
    return _model(shape, data)


def _model(shape: dict[str, Any], data: Any) -> dict[str, Any]:
    if type(data) is not dict:
        raise Unsure
    out: dict[str, Any] = {}
    declared = set()
    for name, spec, default in shape["fields"]:
        declared.add(name)
        if name in data:
            value = data[name]
            if name in shape["unix"] and (type(value) is not int and value is not None):
                raise Unsure  # an ISO string or a datetime: the validator converts it
            value = _value(spec, value)
        elif default == "required":
            raise Unsure
        else:
            value = _json(default["default"])  # a copy: defaults are shared
        if value is not None:
            out[name] = value
    extra = shape["extra"]
    for key, value in data.items():
        if key in declared:
            continue
        if extra == "forbid":
            raise Unsure
        if extra == "allow" and value is not None:
            out[_json_key(key)] = _json(value)
    return out


def _check_size(spec: dict[str, Any], size: int) -> None:
    if ("min" in spec and size < spec["min"]) or ("max" in spec and size > spec["max"]):
        raise Unsure


def _value(spec: dict[str, Any], value: Any) -> Any:
    kind = spec["t"]
    if kind == "opt":
        return None if value is None else _value(spec["of"], value)
    if kind == "str":
        if type(value) is not str or not _is_text(value):
            raise Unsure
        _check_size(spec, len(value))
        return value
    if kind == "int":
        if type(value) is not int:
            raise Unsure
        if (
            ("ge" in spec and value < spec["ge"])
            or ("le" in spec and value > spec["le"])
            or ("gt" in spec and value <= spec["gt"])
            or ("lt" in spec and value >= spec["lt"])
        ):
            raise Unsure
        return value
    if kind == "bool":
        if type(value) is not bool:
            raise Unsure
        return value
    if kind == "lit":
        if type(value) is not str or value not in spec["v"]:
            raise Unsure
        return value
    if kind == "list":
        if type(value) is not list:
            raise Unsure
        _check_size(spec, len(value))
        return [_value(spec["of"], item) for item in value]
    if kind == "dict":
        if type(value) is not dict:
            raise Unsure
        _check_size(spec, len(value))
        return {_value({"t": "str"}, k): _value(spec["of"], v) for k, v in value.items()}
    if kind == "model":
        shape = shapes().get(spec["name"])
        if shape is None:
            raise Unsure
        return _model(shape, value)
    if kind == "any":
        return _json(value)
    raise Unsure  # a kind this module does not know (newer prebuilt.json)


def _json(value: Any) -> Any:
    """Any JSON value, copied; kept as it is (nested None included), as pydantic does."""
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is str:
        if not _is_text(value):
            raise Unsure
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise Unsure
        return value
    if type(value) is list:
        return [_json(item) for item in value]
    if type(value) is dict:
        return {_json_key(key): _json(item) for key, item in value.items()}
    raise Unsure


def _json_key(key: Any) -> str:
    if type(key) is not str or not _is_text(key):
        raise Unsure
    return key


def _is_text(value: str) -> bool:
    """No lone surrogates (JSON may carry them as escapes; pydantic refuses them)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Plain:
    """A decoded answer read like its model (see the module docstring)."""

    __slots__ = ("_data", "_shape")

    def __init__(self, model: str, data: dict[str, Any]) -> None:
        self._data = data
        self._shape = shapes()[model]

    def __getattr__(self, name: str) -> Any:
        for field_name, spec, _default in self._shape["fields"]:
            if field_name == name:
                return _wrap(spec, self._data.get(name))
        if self._shape["extra"] == "allow" and name in self._data:
            return self._data[name]
        raise AttributeError(name)

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False) -> dict[str, Any]:
        if mode != "json" or not exclude_none:
            raise NotImplementedError("Plain offers model_dump(mode='json', exclude_none=True)")
        copied: dict[str, Any] = _json(self._data)
        return copied

    def __repr__(self) -> str:  # like the models: never print card numbers by accident
        return f"Plain({self._data.get('id')!r})"


def _wrap(spec: dict[str, Any], value: Any) -> Any:
    if value is None:
        return None
    kind = spec["t"]
    if kind == "opt":
        return _wrap(spec["of"], value)
    if kind == "model":
        return Plain(spec["name"], value)
    if kind == "list" and spec["of"]["t"] in ("model", "opt"):
        return [_wrap(spec["of"], item) for item in value]
    return value
