"""The command registry: each command is declared ONCE and projected to a cyclopts CLI
command (cli/tree.py), an MCP tool (cli/mcp_tools.py), `--schema` and `--llms`.

A command is a handler `(input_model, ctx) -> JSON-able result` plus a pydantic input
model whose fields become flags (`merchant_name` → `--merchant-name`) and flat MCP tool
parameters (`merchant_name`). Field metadata comes from `Field(description=…)` and an
optional `Flag(...)` in `Annotated[...]` (positional, short aliases, CLI-only).

Declaring one (any module in `linkpay.cli.commands` is discovered automatically):

    class RetrieveInput(CommandInput):
        \"\"\"Retrieve a spend request.\"\"\"
        id: Annotated[str, Flag(positional=True), Field(description="lsrq_… id")]

    @command("spend-request", "retrieve", input=RetrieveInput, read_only=True)
    def retrieve(inp: RetrieveInput, ctx: Context) -> dict: ...

Handlers raise `CommandError(code, message, **extra)` (or let any `LinkError` from the
SDK through); they return dicts/lists/pydantic models, or None when they already
streamed their output with `ctx.emit`.

It imports pydantic (the input models are pydantic models); the fast paths of
`cli/fast.py` answer without loading it.
"""

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from linkpay.cli.context import CommandError, Context

__all__ = [
    "Command",
    "CommandError",
    "CommandInput",
    "Context",
    "Flag",
    "build_input",
    "command",
    "find_command",
    "in_param_terms",
    "load_commands",
]


@dataclass(frozen=True)
class Flag:
    """CLI details of an input field. `positional`: also accepted without its flag
    (`retrieve ID`); `aliases`: extra names like `-m`; `cli_only`: not an MCP param;
    `negatable`: a bool that also has `--no-NAME`; `cli_type`: what the command line
    parses when the model takes more (MCP objects where the CLI has `key:value` text);
    `hidden`: accepted but left out of --help and --schema listings."""

    positional: bool = False
    aliases: tuple[str, ...] = ()
    cli_only: bool = False
    negatable: bool = False
    cli_type: Any = None
    hidden: bool = False


class CommandInput(BaseModel):
    """Base for input models: unknown fields are an error, docstring = description."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Command:
    path: tuple[str, ...]
    input: type[BaseModel]
    handler: Callable[[Any, "Context"], Any]
    description: str
    read_only: bool = False
    destructive: bool = False
    interactive: bool = False  # needs a person at this terminal: never an MCP tool
    mcp: bool = True

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def summary(self) -> str:
        """The first paragraph of the description, on one line."""
        return " ".join(self.description.strip().split("\n\n")[0].split())

    @property
    def tool_name(self) -> str:
        return "_".join(part.replace("-", "_") for part in self.path)

    @property
    def exposed_to_mcp(self) -> bool:
        return self.mcp and not self.interactive

    def flag_meta(self, field_name: str) -> Flag:
        info = self.input.model_fields[field_name]
        for item in info.metadata:
            if isinstance(item, Flag):
                return item
        return Flag()

    def flag_name(self, field_name: str) -> str:
        return "--" + field_name.replace("_", "-")

    def mcp_fields(self) -> list[str]:
        return [name for name in self.input.model_fields if not self.flag_meta(name).cli_only]

    def input_schema(self, *, for_mcp: bool = False) -> dict[str, Any]:
        schema = self.input.model_json_schema()
        schema.pop("title", None)
        if for_mcp:
            keep = set(self.mcp_fields())
            properties = {}
            for key, value in schema.get("properties", {}).items():
                if key in keep:
                    if isinstance(value.get("description"), str):
                        value["description"] = in_param_terms(value["description"])
                    properties[key] = value
            schema["properties"] = properties
            if "required" in schema:
                schema["required"] = [key for key in schema["required"] if key in keep]
        return schema


_REGISTRY: dict[tuple[str, ...], Command] = {}
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![\w-])")


def in_param_terms(text: str) -> str:
    """Text for MCP callers: `--merchant-name` becomes `merchant_name` (a tool caller
    knows parameters, not flags)."""
    return _FLAG.sub(lambda match: match.group(1).replace("-", "_"), text)


def command(
    *path: str,
    input: type[BaseModel],
    description: str | None = None,
    read_only: bool = False,
    destructive: bool = False,
    interactive: bool = False,
    mcp: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler under `path` (e.g. "spend-request", "create")."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        import inspect

        text = description or inspect.cleandoc(input.__doc__ or handler.__doc__ or "")
        _REGISTRY[tuple(path)] = Command(
            path=tuple(path),
            input=input,
            handler=handler,
            description=text,
            read_only=read_only,
            destructive=destructive,
            interactive=interactive,
            mcp=mcp,
        )
        return handler

    return decorate


def load_commands() -> list[Command]:
    """Import every module of `linkpay.cli.commands` (so MPP's `mpp.py` and the demo's
    module join without editing this file) and return the commands in path order."""
    from linkpay.cli import commands as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def build_input(cmd: Command, values: dict[str, Any], *, for_mcp: bool = False) -> Any:
    """Validate raw values against the command's input model (INVALID_INPUT naming the
    flag, or the parameter for MCP callers). Shared by the CLI and the MCP server."""
    from pydantic import ValidationError

    try:
        return cmd.input.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first.get("loc", ())]
        where = (loc[0] if for_mcp else cmd.flag_name(loc[0])) if loc else cmd.name
        raise CommandError(
            "INVALID_INPUT", f"{where}: {first.get('msg', 'invalid value')}"
        ) from None


def find_command(path: tuple[str, ...]) -> Command | None:
    return _REGISTRY.get(path)
