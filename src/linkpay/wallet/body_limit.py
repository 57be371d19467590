"""A cap on request bodies, enforced before anything else reads them (auth included).

Without it a client can make the wallet buffer any amount of data: FastAPI reads the
whole body before it even looks at the bearer token. The cap is checked twice:

- from `Content-Length`, so an honest oversized request is refused before one byte of
  its body is read;
- while the body streams in (chunked uploads, or a `Content-Length` that lies), so the
  wallet never holds more than the cap.

Either way the answer is 413 with the wallet's JSON error body. This is a plain ASGI
middleware (no `BaseHTTPMiddleware`), so it costs one dict lookup per request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: the largest legitimate body is a few KiB


def too_large_message(limit: int) -> str:
    return f"Request body is larger than {limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the streamed body passes the cap. An HTTPException,
    so FastAPI's body parsing re-raises it instead of calling it a parse error, and the
    app's error handler renders the 413 JSON body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def _error_body(limit: int) -> bytes:
    error = {"message": too_large_message(limit), "code": "request_too_large"}
    return json.dumps({"error": error}).encode()


class BodyLimitMiddleware:
    """Refuse request bodies larger than `max_bytes` with 413 (see module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        limit = self.max_bytes
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Whoever read the body did not turn this into a response (a raw ASGI
            # consumer): answer here if nothing was sent yet.
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _error_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # malformed: the server rejects it; the stream check still holds
    return None
