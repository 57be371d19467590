"""`link-cli serve`: the MCP server over streamable HTTP at `/mcp`, plus the agent
skills at `/.well-known/skills/` (GET only). Nothing else is served.

Loopback by default. A browser page from another origin (an `Origin` header that is not
loopback) gets 403, so it cannot drive the person's session. Bound to any other address,
`/mcp` also needs `Authorization: Bearer <token>`: the token comes from
`LINK_SERVE_TOKEN` or is generated and printed once (stderr) at start.
"""

import hmac
import ipaddress
import json
import os
import secrets
from typing import Any, TextIO

from linkpay.cli.skills import skill_file, skills_index

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
DEFAULT_PORT = 54321
SKILLS_PREFIX = "/.well-known/skills"


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _origin_allowed(origin: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and is_loopback(parts.hostname or "")
    except ValueError:
        return False


class ServeGuard:
    """ASGI wrapper: Origin check, the bearer token (when set), `/mcp` and the skills."""

    def __init__(self, app: Any, *, path: str = "/mcp", token: str | None = None) -> None:
        self.app = app
        self.path = path
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is not None and not _origin_allowed(origin):
            await _reply(send, 403, {"code": "FORBIDDEN_ORIGIN", "message": "Origin not allowed"})
            return
        path = scope["path"]
        if path.rstrip("/") == SKILLS_PREFIX or path.startswith(SKILLS_PREFIX + "/"):
            await self._skills(scope, send, path[len(SKILLS_PREFIX) :].strip("/"))
            return
        if path.rstrip("/") != self.path:
            await _reply(send, 404, {"code": "NOT_FOUND", "message": "Only /mcp is served"})
            return
        if self.token is not None and not _bearer_ok(headers.get("authorization"), self.token):
            await _reply(
                send,
                401,
                {"code": "NOT_AUTHENTICATED", "message": "Send Authorization: Bearer <token>"},
                extra=[(b"www-authenticate", b'Bearer realm="link-cli"')],
            )
            return
        await self.app(scope, receive, send)

    async def _skills(self, scope: Any, send: Any, rest: str) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _reply(send, 405, {"code": "METHOD_NOT_ALLOWED", "message": "GET only"})
            return
        if rest in ("", "index.json"):
            await _reply(send, 200, skills_index())
            return
        found = skill_file(rest)
        if found is None:
            await _reply(send, 404, {"code": "NOT_FOUND", "message": "No such skill file"})
            return
        await _send(send, 200, found, b"text/markdown; charset=utf-8")


def _bearer_ok(value: str | None, token: str) -> bool:
    scheme, _, given = (value or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def _reply(
    send: Any, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _send(send, status, json.dumps(body).encode(), b"application/json", extra)


async def _send(
    send: Any,
    status: int,
    payload: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": payload})


def http_app(
    *,
    host: str = "127.0.0.1",
    auth_file: str | None = None,
    verbose: bool = False,
    token: str | None = None,
) -> Any:
    from mcp.server.transport_security import TransportSecuritySettings

    from linkpay.cli.mcp_server import build_server

    server = build_server(auth_file=auth_file, verbose=verbose)
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if is_loopback(host):
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    app = server.streamable_http_app(
        streamable_http_path="/mcp", transport_security=security, host=host
    )
    return ServeGuard(app, token=token), app


def serve_http(
    *, host: str, port: int, auth_file: str | None, verbose: bool, stderr: TextIO
) -> None:
    import uvicorn

    token = None
    if not is_loopback(host):
        token = os.environ.get("LINK_SERVE_TOKEN") or secrets.token_urlsafe(32)
        print(
            f"WARNING: serving MCP on {host}, which is not a loopback address: anyone who can "
            "reach this port and holds the token can use the person's wallet session. "
            "Prefer 127.0.0.1.",
            file=stderr,
        )
        if not os.environ.get("LINK_SERVE_TOKEN"):
            print(
                f"Bearer token (shown once; clients send Authorization: Bearer …): {token}",
                file=stderr,
            )
    guarded, _inner = http_app(host=host, auth_file=auth_file, verbose=verbose, token=token)
    print(f"MCP (streamable HTTP) at http://{host}:{port}/mcp", file=stderr)
    print(f"Agent skills at http://{host}:{port}{SKILLS_PREFIX}/", file=stderr, flush=True)
    config = uvicorn.Config(guarded, host=host, port=port, log_level="warning", lifespan="on")
    uvicorn.Server(config).run()
