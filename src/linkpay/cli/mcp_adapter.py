"""The one place that touches the mcp SDK's non-public tool machinery.

`MCPServer` builds a tool from a Python function and validates call arguments against
a model derived from its signature. We want something else: the advertised input
schema is our command's input model, and arguments reach our handler as the caller
sent them (unknown ones included), so that our own validation answers every mistake
as `{code: INVALID_INPUT, message}` instead of the SDK answering first in its own
words. Doing that needs `Tool.from_function`, `Tool.fn_metadata.arg_model` and
`ArgModelBase` (not part of the SDK's public surface); `tests/cli/test_mcp_adapter.py`
pins exactly this behaviour, so an mcp upgrade that changes it fails there.
"""

import inspect
from collections.abc import Callable
from typing import Any

_PassThroughArguments: Any = None


def _pass_through_base() -> Any:
    global _PassThroughArguments
    if _PassThroughArguments is None:
        from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
        from pydantic import ConfigDict

        class PassThroughArguments(ArgModelBase):
            model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

            def model_dump_one_level(self) -> dict[str, Any]:
                return {**super().model_dump_one_level(), **(self.model_extra or {})}

        _PassThroughArguments = PassThroughArguments
    return _PassThroughArguments


def pass_through_tool(
    call: Callable[..., Any],
    *,
    name: str,
    description: str,
    input_schema: dict[str, Any],
    parameter_names: list[str],
    read_only: bool = False,
    destructive: bool = False,
) -> Any:
    """An mcp `Tool` that advertises `input_schema` and calls `call(**arguments)` with
    the caller's arguments unchanged (names in `parameter_names` default to None;
    unknown names are passed too). `call` returns a `CallToolResult`."""
    from mcp.server.mcpserver.tools.base import Tool
    from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
    from mcp.types import CallToolResult, ToolAnnotations
    from pydantic import create_model

    params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Any)
        for name in parameter_names
    ]

    def entry(**kwargs: Any) -> Any:
        return call(**kwargs)

    entry.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        params, return_annotation=CallToolResult
    )
    entry.__annotations__ = {name: Any for name in parameter_names} | {"return": CallToolResult}
    entry.__name__ = name
    tool = Tool.from_function(
        entry,
        name=name,
        description=description,
        annotations=ToolAnnotations(
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=read_only,
            open_world_hint=False,
        ),
        structured_output=False,
    )
    fields: dict[str, Any] = {param: (Any, None) for param in parameter_names}
    base: type[ArgModelBase] = _pass_through_base()
    tool.fn_metadata.arg_model = create_model(f"{name}_arguments", __base__=base, **fields)
    return tool.model_copy(update={"parameters": input_schema})
