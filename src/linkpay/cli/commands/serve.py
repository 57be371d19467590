"""`serve`: MCP over streamable HTTP at /mcp (loopback by default)."""

from typing import Any

from pydantic import Field

from linkpay.cli.registry import CommandInput, Context, command


class ServeInput(CommandInput):
    """Serve every tool over MCP streamable HTTP at /mcp. Binds to loopback by default;
    requests with a foreign Origin header are refused (403)."""

    host: str = Field(default="127.0.0.1", description="Address to bind (loopback by default)")
    port: int = Field(default=8766, ge=0, le=65535, description="Port to listen on")


@command("serve", input=ServeInput, mcp=False)
def serve(inp: ServeInput, ctx: Context) -> Any:
    from linkpay.cli.mcp_server import serve_http

    serve_http(
        host=inp.host,
        port=inp.port,
        auth_file=ctx.auth_file,
        verbose=ctx.verbose,
        stderr=ctx.stderr,
    )
    return None
