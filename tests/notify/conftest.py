"""Fixtures for the notification tests: a real SMTP server (aiosmtpd) and a real push
endpoint on loopback, and a wallet configured to use them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from linkpay.serving import free_loopback_port


class MailSink:
    """aiosmtpd handler keeping every message; `wait_for` blocks until one matches."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._cond:
            self.messages.append(message_from_bytes(envelope.content))
            self._cond.notify_all()
        return "250 OK"

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> Message:
        with self._cond:
            found: list[Message] = []

            def match() -> bool:
                found[:] = [m for m in self.messages if predicate(m)]
                return bool(found)

            assert self._cond.wait_for(match, timeout), "no matching email arrived"
            return found[0]


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    from aiosmtpd.controller import Controller

    sink = MailSink()
    port = free_loopback_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


class PushEndpoint:
    """A stand-in push service: records each POST (headers + encrypted body) and answers
    with `status` (201 normally; 410 to say the subscription is gone)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 201
        self._cond = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with endpoint._cond:
                    endpoint.received.append(
                        (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    endpoint._cond.notify_all()
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, path: str, count: int = 1, timeout: float = 15.0) -> list[Any]:
        with self._cond:

            def matching() -> list[Any]:
                return [r for r in self.received if r[0] == path]

            assert self._cond.wait_for(lambda: len(matching()) >= count, timeout), (
                f"push endpoint {path} got {len(matching())} of {count} messages"
            )
            return matching()

    def wait_until(self, predicate: Any, timeout: float = 15.0) -> Any:
        """The first received record for which `predicate(record)` is truthy."""
        with self._cond:
            found: list[Any] = []

            def check() -> bool:
                found[:] = [r for r in self.received if predicate(r)]
                return bool(found)

            assert self._cond.wait_for(check, timeout), "no matching push message arrived"
            return found[0]


@pytest.fixture(scope="module")
def push_endpoint() -> Iterator[PushEndpoint]:
    endpoint = PushEndpoint()
    yield endpoint
    endpoint.server.shutdown()


@pytest.fixture(scope="module")
def notify_wallet(database_url: str, mail_sink: tuple[MailSink, int]) -> Iterator[Any]:
    from linkpay.wallet.embedded import start_embedded_wallet

    _sink, port = mail_sink
    overrides = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "smtp_from": "Wallet <wallet@example.com>",
        "notify_retry_seconds": "0.2,0.5",
    }
    with start_embedded_wallet(database_url=database_url, settings_overrides=overrides) as w:
        yield w
