"""The HTTP exchange with the merchant for `mpp pay`: the request as the agent described
it (replayed byte for byte), the URL policy, --verbose lines and the result shape.

No redirects are ever followed, the TLS context is built once per process (on the first
handshake), and every
string from the merchant is sanitized before it is returned.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from linkpay.mpp import wire
from linkpay.mpp.errors import InvalidInputError, NetworkError
from linkpay.text import sanitize_deep, sanitize_text

if TYPE_CHECKING:  # httpx2 is imported when paying, not for `mpp decode`
    import httpx2

MAX_BODY_CHARS = 100_000


@dataclass(frozen=True)
class HttpRequestSpec:
    """The merchant request as the agent described it; replayed byte for byte."""

    url: str
    method: str
    headers: list[tuple[str, str]]
    body: bytes | None

    @classmethod
    def build(
        cls, url: str, *, method: str | None, data: str | None, headers: Sequence[str]
    ) -> HttpRequestSpec:
        check_url(url)
        parsed: list[tuple[str, str]] = []
        for line in headers:
            name, sep, value = line.partition(":")
            name, value = name.strip(), value.strip()
            if not sep or not name or any(c in name for c in " \t\r\n") or "\n" in value:
                raise InvalidInputError(f"--header must look like 'Name: Value', got {line!r}")
            parsed.append((name, value))
        verb = (method or ("POST" if data is not None else "GET")).upper()
        if not verb.isalpha():
            raise InvalidInputError(f"--method must be an HTTP method, got {method!r}")
        if data is not None and not any(n.lower() == "content-type" for n, _ in parsed):
            parsed.insert(0, ("Content-Type", "application/json"))
        if not any(n.lower() == "accept-payment" for n, _ in parsed):
            # What we can pay (draft-httpauth-payment §Accept-Payment): merchants offering
            # several methods may list stripe/charge first. Sent on both requests.
            parsed.append(("Accept-Payment", "stripe/charge"))
        body = data.encode("utf-8") if data is not None else None
        return cls(url, verb, parsed, body)


def check_url(url: str) -> None:
    """HTTPS, or plain HTTP to a loopback host; nothing else carries a credential."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"URL must be an absolute http(s) URL, got {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidInputError(
            "Refusing plain http:// for a non-loopback host: payment credentials travel only "
            "over HTTPS (http is allowed for localhost / 127.0.0.1 / ::1)."
        )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def log_hooks(log: Callable[[str], None] | None) -> dict[str, list[Any]]:
    """--verbose traffic lines; credential headers are never written out."""
    if log is None:
        return {}
    secret = {"authorization", "payment-authorization", "cookie", "set-cookie", "payment-receipt"}

    def on_request(request: httpx2.Request) -> None:
        log(f"mpp > {request.method} {sanitize_text(str(request.url))}")
        for name, value in request.headers.multi_items():
            shown = (value.split(" ", 1)[0] + " [redacted]") if name.lower() in secret else value
            log(f"mpp >   {name}: {sanitize_text(shown)}")

    def on_response(response: httpx2.Response) -> None:
        log(f"mpp < {response.status_code} {sanitize_text(str(response.request.url))}")
        for name, value in response.headers.multi_items():
            shown = "[redacted]" if name.lower() in secret else value
            log(f"mpp <   {name}: {sanitize_text(shown)}")

    return {"request": [on_request], "response": [on_response]}


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context for our HTTP clients: httpx2's default one (system CAs,
    SSL_CERT_FILE/DIR honoured), built on the first TLS handshake and once per process.
    Loading the CA store costs ~50-250 ms on small machines, and a run that only talks
    plain http to loopback (the demo, a local wallet) never needs it."""
    return _OnFirstHandshake(ssl.PROTOCOL_TLS_CLIENT)


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    import httpx2

    return httpx2.create_ssl_context()


class _OnFirstHandshake(ssl.SSLContext):
    """Hands every TLS connection to `_verifying_context()`; what httpcore2 sets on the
    context before a handshake (the ALPN list) is passed on to it."""

    _alpn: list[str] | None = None

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        super().set_alpn_protocols(alpn_protocols)
        self._alpn = list(alpn_protocols)

    def _target(self) -> ssl.SSLContext:
        target = _verifying_context()
        if self._alpn is not None:
            target.set_alpn_protocols(self._alpn)
        return target

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return self._target().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        return self._target().wrap_bio(*args, **kwargs)


def send(
    http: httpx2.Client, spec: HttpRequestSpec, *, extra: tuple[str, str] | None
) -> httpx2.Response:
    import httpx2

    headers = list(spec.headers)
    if extra is not None:
        name, value = extra
        existing = [i for i, (n, _) in enumerate(headers) if n.lower() == name.lower()]
        if existing:  # keep the agent's own Authorization scheme next to Payment
            index = existing[0]
            headers[index] = (headers[index][0], f"{headers[index][1]}, {value}")
        else:
            headers.append((name, value))
    try:
        return http.request(spec.method, spec.url, headers=headers, content=spec.body)
    except httpx2.HTTPError:
        if extra is not None:
            raise
        raise NetworkError(f"Could not reach {sanitize_text(spec.url)}") from None


def response_result(response: httpx2.Response, *, paid: bool) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    text = response.text
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + "…[truncated]"
    out: dict[str, Any] = {
        "paid": paid,
        "status": response.status_code,
        "headers": headers,
        "body": text,
    }
    raw_receipt = response.headers.get("payment-receipt")
    if raw_receipt:
        try:
            out["receipt"] = wire.receipt_to_dict(wire.parse_receipt(raw_receipt))
        except Exception:
            out["receipt_error"] = "the Payment-Receipt header could not be decoded"
    problem = wire.parse_problem(response.content, response.headers.get("content-type"))
    if problem is not None and response.status_code >= 400:
        out["problem"] = problem
    return sanitize_deep(out)
