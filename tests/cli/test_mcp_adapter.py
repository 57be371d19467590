"""Pins what `linkpay.cli.mcp_adapter` relies on in the mcp SDK's non-public tool
machinery (`Tool.from_function`, `fn_metadata.arg_model`, `ArgModelBase`): the tool
advertises our schema, not one derived from the function; arguments reach our function
exactly as sent (unknown names and any JSON type included, nothing coerced); and our
`CallToolResult` goes back unchanged. An mcp upgrade that changes any of this fails
here, in one place."""

from __future__ import annotations

from typing import Any

import pytest

SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "integer", "description": "cents"},
        "line_item": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        },
    },
    "required": ["amount"],
}


def _server(seen: list[dict[str, Any]]) -> Any:
    from mcp.server import MCPServer
    from mcp.types import CallToolResult, TextContent

    from linkpay.cli.mcp_adapter import pass_through_tool

    def call(**kwargs: Any) -> CallToolResult:
        seen.append(kwargs)
        return CallToolResult(
            content=[TextContent(type="text", text="ok")],
            structured_content={"echo": kwargs},
            is_error=kwargs.get("amount") == "bad",
        )

    tool = pass_through_tool(
        call,
        name="probe_tool",
        description="Probe.",
        input_schema=SCHEMA,
        parameter_names=["amount", "line_item"],
        read_only=True,
    )
    return MCPServer("probe", tools=[tool])


@pytest.mark.anyio
async def test_schema_is_ours_and_arguments_pass_through_unchanged() -> None:
    from mcp import Client

    seen: list[dict[str, Any]] = []
    async with Client(_server(seen)) as client:
        (tool,) = (await client.list_tools()).tools
        assert tool.name == "probe_tool"
        assert tool.input_schema == SCHEMA
        assert tool.annotations is not None and tool.annotations.read_only_hint is True

        objects = [{"name": "Mug", "quantity": 2}, "name:Tea"]
        result = await client.call_tool(
            "probe_tool", {"amount": "12.50", "line_item": objects, "surprise": {"x": [1]}}
        )
        assert not result.is_error
        # Not coerced ("12.50" stays a string), unknown names kept, objects untouched.
        assert seen[-1] == {"amount": "12.50", "line_item": objects, "surprise": {"x": [1]}}
        assert result.structured_content == {"echo": seen[-1]}

        missing = await client.call_tool("probe_tool", {})
        assert seen[-1] == {"amount": None, "line_item": None}  # absent -> None, our check decides
        assert not missing.is_error

        failed = await client.call_tool("probe_tool", {"amount": "bad"})
        assert failed.is_error and failed.structured_content == {
            "echo": {"amount": "bad", "line_item": None}
        }
