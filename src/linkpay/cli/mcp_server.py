"""link-cli's tools on the mcp SDK: the server `link-cli serve` puts behind streamable
HTTP. What each tool advertises and answers comes from `cli/mcp_tools.py`, shared with
the stdio server (`cli/mcp_stdio.py`), which answers without the SDK because importing
it costs ~0.6 s of CPU before the first answer.

The tool's advertised schema is the command's input model; the SDK's own argument
check is kept loose (`cli/mcp_adapter.py`) so it cannot answer first in a different
shape than our `{code, message}`.
"""

from typing import Any

from linkpay.cli.mcp_tools import (
    INSTRUCTIONS,
    ToolRunner,
    result_text,
    tool_commands,
    tool_description,
)


def _tool(cmd: Any, runner: ToolRunner) -> Any:
    from linkpay.cli.mcp_adapter import pass_through_tool

    def call(**kwargs: Any) -> Any:
        from mcp.types import CallToolResult, TextContent

        values = {key: value for key, value in kwargs.items() if value is not None}
        data, is_error = runner.run(cmd, values)
        return CallToolResult(
            content=[TextContent(type="text", text=result_text(data))],
            structured_content=data,
            is_error=is_error,
        )

    return pass_through_tool(
        call,
        name=cmd.tool_name,
        description=tool_description(cmd),
        input_schema=cmd.input_schema(for_mcp=True),
        parameter_names=cmd.mcp_fields(),
        read_only=cmd.read_only,
        destructive=cmd.destructive,
    )


def build_server(*, auth_file: str | None = None, verbose: bool = False) -> Any:
    from mcp.server import MCPServer

    from linkpay import __version__

    runner = ToolRunner(auth_file=auth_file, verbose=verbose)
    return MCPServer(
        "link-cli",
        version=__version__,
        instructions=INSTRUCTIONS,
        tools=[_tool(cmd, runner) for cmd in tool_commands()],
        log_level="DEBUG" if verbose else "WARNING",
    )
