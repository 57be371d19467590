"""One authenticated GET to the wallet without httpx2, for link-cli's fast
`spend-request retrieve ID`: importing httpx2 (and what it pulls in) costs more CPU than
the rest of that command.

It does what `HttpSession.request` does for a GET — the same base URL and token
sources, the same request headers, 30 s per connect/read, the answer mapped by
`answer.decode_answer` — but only where that is plain: an `http://` URL with a plain
host, no proxy, no `--verbose`, a token that needs no refresh, and an answer with a
`Content-Length` and no content coding. Everything else raises `Declined` before or
instead of an answer, and the caller makes the same (idempotent) GET through the SDK,
which answers as it always does: HTTPS (its TLS verification), `LINK_HTTP_PROXY`,
refresh on expiry or 401, and every transport error but a timeout (whose message is the
SDK's own). Imports `socket`, `json`, `os`, `time` and our light modules only.
"""

from __future__ import annotations

import os
import socket
import time

from linkpay.client.answer import decode_answer
from linkpay.client.errors import NetworkError
from linkpay.client.token_file import EXPIRY_MARGIN_SECONDS, auth_file_path, read_token_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_BASE_URL = "http://127.0.0.1:8765"  # = _http.DEFAULT_BASE_URL (a test checks)
TIMEOUT_SECONDS = 30.0  # = Link's default timeout
ACCEPT_ENCODING = "gzip, deflate"  # what httpx2 sends (a test checks)
_MAX_HEADER_BYTES = 65536
_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_PATH_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%")


class Declined(Exception):
    """Not a case this module answers; make the request through the SDK instead."""


def fetch(path: str, query: str, *, auth_file: str | None) -> Any:
    """The decoded JSON answer of `GET {LINK_API_BASE_URL}{path}?{query}` with the
    agent's token; raises a `LinkError` as the SDK would, or `Declined`."""
    if os.environ.get("LINK_HTTP_PROXY"):
        raise Declined
    base = (os.environ.get("LINK_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    auth_base = (os.environ.get("LINK_AUTH_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    if not auth_base.lower().startswith("http:"):
        raise Declined  # the SDK would build a verifying TLS context for it: same errors
    host, port, prefix = _split_url(base)
    segments = (prefix + path).split("/")
    if not set(path) <= _PATH_CHARACTERS or "." in segments or ".." in segments:
        raise Declined  # httpx2 would remove dot segments
    token, refresh_token, expires_at = _token(auth_file)
    refresh_enabled = not os.environ.get("LINK_NO_REFRESH")
    if refresh_token and refresh_enabled and expires_at is not None:
        if time.time() >= expires_at - EXPIRY_MARGIN_SECONDS:
            raise Declined  # the SDK refreshes first (under the refresh lock)
    from linkpay import __version__

    target = prefix + path + (f"?{query}" if query else "")
    request = (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {host if port == 80 else f'{host}:{port}'}\r\n"
        "Accept: application/json\r\n"
        f"Accept-Encoding: {ACCEPT_ENCODING}\r\n"
        "Connection: close\r\n"
        f"User-Agent: link-cli/{__version__}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "\r\n"
    )
    try:
        status, body = _exchange(host, port, request.encode("latin-1"))
    except TimeoutError:
        from linkpay.client._http import _origin

        raise NetworkError(f"The wallet at {_origin(base + path)} did not answer in time") from None
    except (OSError, UnicodeEncodeError):
        raise Declined from None  # refused, reset, …: the SDK says it in its words
    if status == 401 and refresh_token and refresh_enabled:
        raise Declined  # the SDK refreshes and asks again
    return decode_answer(status, body)


def _split_url(url: str) -> tuple[str, int, str]:
    """(host, port, path prefix) of a plain `http://host[:port][/path]` URL, else
    Declined (https, user info, IPv6 or non-ASCII hosts, queries, dot segments, …)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "http":
        raise Declined
    netloc, slash, path = rest.partition("/")
    prefix = slash + path
    host, colon, port_text = netloc.partition(":")
    host = host.lower()
    if not host or not set(host) <= _HOST_CHARACTERS:
        raise Declined
    port = 80
    if colon:
        if not (port_text.isdigit() and port_text.isascii() and 0 < int(port_text) < 65536):
            raise Declined
        port = int(port_text)
    if "%" in prefix or not set(prefix) <= _PATH_CHARACTERS:
        raise Declined  # escapes in a configured URL: httpx2's to normalise
    return host, port, prefix


def _token(auth_file: str | None) -> tuple[str, str | None, float | None]:
    """(access token, refresh token, expiry) from where `TokenStore` reads them."""
    access = os.environ.get("LINK_ACCESS_TOKEN")
    if access:
        if not _is_header_safe(access):
            raise Declined
        return access, os.environ.get("LINK_REFRESH_TOKEN") or None, None
    data = read_token_file(auth_file_path(auth_file))
    if data is None:
        raise Declined  # not logged in: the SDK says so
    token, refresh = data.get("access_token"), data.get("refresh_token")
    expires = data.get("expires_at")
    if (
        type(token) is not str
        or not _is_header_safe(token)
        or not (refresh is None or type(refresh) is str)
        or not (expires is None or type(expires) in (int, float))
    ):
        raise Declined  # a file only the SDK's `Tokens` knows what to make of
    return token, refresh, expires


def _is_header_safe(token: str) -> bool:
    """Visible ASCII only: anything else the SDK's header checks judge."""
    return token.isascii() and token.isprintable() and " " not in token


def _exchange(host: str, port: int, request: bytes) -> tuple[int, bytes]:
    """Send `request`, read one answer: (status, body). Declined for anything but a
    plain HTTP/1.x answer with a Content-Length."""
    # An ASCII host as bytes: a str would load the IDNA codec to resolve it.
    address: Any = (host.encode(), port)  # typeshed wants a str; getaddrinfo takes bytes
    with socket.create_connection(address, timeout=TIMEOUT_SECONDS) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk or len(received) > _MAX_HEADER_BYTES:
                raise Declined
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status, length = _parse_head(head)
        while len(body) < length:
            chunk = sock.recv(max(65536, length - len(body)))
            if not chunk:
                raise Declined
            body += chunk
    if len(body) != length:
        raise Declined
    return status, body


def _parse_head(head: bytes) -> tuple[int, int]:
    """(status, Content-Length) of a response head, or Declined."""
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise Declined
    status = int(code)
    if status < 200 or rest[3:4] not in (b"", b" "):
        raise Declined
    length: int | None = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        name = name.lower()
        if not colon or not name or name != name.strip() or b" " in name or b"\t" in name:
            raise Declined  # folded or malformed header lines
        value = value.strip()
        if name == b"content-length":
            if length is not None or not value.isdigit():
                raise Declined
            length = int(value)
        elif name == b"transfer-encoding":
            raise Declined
        elif name == b"content-encoding" and value.lower() not in (b"", b"identity"):
            raise Declined
    if length is None:
        raise Declined
    return status, length
