"""`serve`: MCP over streamable HTTP at /mcp and the agent skills at
/.well-known/skills/ (loopback by default; a bearer token elsewhere)."""

from typing import Any

from pydantic import Field

from linkpay.cli.registry import CommandInput, Context, command


class ServeInput(CommandInput):
    """Serve every tool over MCP streamable HTTP at /mcp, and the agent skills at
    /.well-known/skills/. Binds to loopback by default; requests with a foreign Origin
    header are refused (403). On any other address /mcp needs a bearer token
    (LINK_SERVE_TOKEN, or one generated and printed once)."""

    host: str = Field(default="127.0.0.1", description="Address to bind (loopback by default)")
    port: int = Field(default=54321, ge=0, le=65535, description="Port to listen on")


@command("serve", input=ServeInput, mcp=False)
def serve(inp: ServeInput, ctx: Context) -> Any:
    from linkpay.cli.http_serve import serve_http

    serve_http(
        host=inp.host,
        port=inp.port,
        auth_file=ctx.auth_file,
        verbose=ctx.verbose,
        stderr=ctx.stderr,
    )
    return None
