"""An oversized request body is refused with 413 before auth, parsing or buffering:
from `Content-Length` without reading a byte of it, and while a chunked body streams."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

from linkpay.wallet.body_limit import DEFAULT_MAX_BODY_BYTES


def _connect(wallet: Any) -> socket.socket:
    parts = urlsplit(wallet.base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def test_declared_oversized_body_is_413_before_auth_without_reading_it(wallet: Any) -> None:
    with _connect(wallet) as sock:
        # 100 MB announced, nothing sent: the answer must come from the header alone.
        sock.sendall(
            b"POST /spend_requests HTTP/1.1\r\nHost: wallet\r\n"
            b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
        )
        status, headers, body = _read_response(sock)
    assert status == 413  # not 401: the body limit runs before authentication
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_streamed_oversized_body_is_413_before_auth(wallet: Any) -> None:
    chunk = b"x" * 65536
    with _connect(wallet) as sock:
        sock.sendall(
            b"POST /spend_requests HTTP/1.1\r\nHost: wallet\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        try:
            while sent < 4 * DEFAULT_MAX_BODY_BYTES:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the wallet answered and closed while we were still sending
        status, _headers, body = _read_response(sock)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_body_within_the_limit_reaches_the_route(wallet: Any) -> None:
    with wallet.http() as client:
        answer = client.post(
            "/spend_requests",
            content=b"{" + b" " * (DEFAULT_MAX_BODY_BYTES - 2) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 401  # parsed, then refused for the missing token
    assert answer.json()["error"]["code"] == "authentication_required"
