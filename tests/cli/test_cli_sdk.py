"""The SDK's own logic with a scripted transport (httpx2.MockTransport): refresh on
expiry and once on a 401, Idempotency-Key, device polling with slow_down, polling
fallback when the wallet has no long-poll, error mapping — and LINK_HTTP_PROXY routing
through a real local proxy socket."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from linkpay.client import Link, NotAuthenticated, PollingTimeout
from linkpay.client.errors import ApiError, InvalidResponse
from linkpay.client.tokens import Tokens

BASE = "http://wallet.test"


def _request_json(sr_id: str, status: str) -> dict[str, Any]:
    return {
        "id": sr_id,
        "status": status,
        "context": "c" * 100,
        "amount": 100,
        "currency": "usd",
        "credential_type": "card",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def _token_json(n: int) -> dict[str, Any]:
    return {
        "access_token": f"access-{n}",
        "refresh_token": f"refresh-{n}",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "userinfo:read",
    }


def _link(
    tmp_path: Path, handler: Any, tokens: Tokens | None, monkeypatch: pytest.MonkeyPatch, **env: str
) -> Link:
    for key in ("LINK_ACCESS_TOKEN", "LINK_REFRESH_TOKEN", "LINK_NO_REFRESH", "LINK_HTTP_PROXY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    link = Link(
        api_base_url=BASE,
        auth_base_url=BASE,
        auth_file=tmp_path / "auth.json",
        transport=httpx2.MockTransport(handler),
    )
    if tokens is not None:
        link.store.save(tokens)
    return link


def test_refreshes_expired_token_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(
            f"{request.method} {request.url.path} {request.headers.get('authorization', '')}"
        )
        if request.url.path == "/device/token":
            assert (
                b"grant_type=refresh_token" in request.content and b"refresh-0" in request.content
            )
            return httpx2.Response(200, json=_token_json(1))
        return httpx2.Response(200, json={"email": "a@example.com"})

    link = _link(
        tmp_path, handler, Tokens("access-0", "refresh-0", expires_at=time.time() - 1), monkeypatch
    )
    assert link.user_info.retrieve().email == "a@example.com"
    assert seen == ["POST /device/token ", "GET /userinfo Bearer access-1"]
    assert link.store.load().refresh_token == "refresh-1"  # type: ignore[union-attr]


def test_refreshes_once_on_401_then_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        if request.url.path == "/device/token":
            return httpx2.Response(200, json=_token_json(len(calls)))
        return httpx2.Response(
            401, json={"error": {"code": "authentication_required", "message": "no"}}
        )

    link = _link(tmp_path, handler, Tokens("access-0", "refresh-0"), monkeypatch)
    with pytest.raises(NotAuthenticated):
        link.user_info.retrieve()
    assert calls == ["/userinfo", "/device/token", "/userinfo"]

    calls.clear()
    no_refresh = _link(
        tmp_path / "b", handler, Tokens("access-0", "refresh-0"), monkeypatch, LINK_NO_REFRESH="1"
    )
    with pytest.raises(NotAuthenticated):
        no_refresh.user_info.retrieve()
    assert calls == ["/userinfo"]


def test_posts_carry_an_idempotency_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        keys.append(request.headers.get("idempotency-key"))
        return httpx2.Response(200, json=_request_json("lsrq_1", "canceled"))

    link = _link(tmp_path, handler, Tokens("t"), monkeypatch)
    link.spend_requests.cancel("lsrq_1")
    link.spend_requests.cancel("../admin")  # ids are path-quoted
    assert all(keys) and keys[0] != keys[1]


def test_device_poll_honours_interval_and_slow_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(
        [
            httpx2.Response(400, json={"error": "authorization_pending"}),
            httpx2.Response(400, json={"error": "slow_down"}),
            httpx2.Response(200, json=_token_json(1)),
        ]
    )
    link = _link(tmp_path, lambda request: next(answers), None, monkeypatch)
    slept: list[float] = []
    token = link.device.poll("dev", interval=5, timeout=600, sleep=slept.append)
    assert token.access_token == "access-1" and slept == [5, 10]

    denied = _link(
        tmp_path / "d",
        lambda r: httpx2.Response(400, json={"error": "access_denied"}),
        None,
        monkeypatch,
    )
    with pytest.raises(Exception) as err:
        denied.device.poll("dev", interval=1, timeout=10, sleep=slept.append)
    assert getattr(err.value, "code", None) == "access_denied"


def test_polling_falls_back_to_interval_without_long_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = iter(["pending_approval", "pending_approval", "pending_approval", "approved"])
    waits: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        waits.append(request.url.params.get("wait"))
        return httpx2.Response(200, json=_request_json("lsrq_1", next(statuses)))

    link = _link(tmp_path, handler, Tokens("t"), monkeypatch)
    slept: list[float] = []
    changes: list[str] = []
    final = link.spend_requests.wait_for(
        "lsrq_1",
        interval=2,
        timeout=600,
        sleep=slept.append,
        on_change=lambda r: changes.append(r.status),
    )
    assert final.status == "approved"
    assert changes == ["pending_approval", "approved"]  # only changes are reported
    assert waits[0] is None and all(w is not None for w in waits[1:])  # long-poll asked for
    assert slept == [2, 2]  # the wallet answered at once: fall back to the interval

    stuck = _link(
        tmp_path / "s",
        lambda r: httpx2.Response(200, json=_request_json("lsrq_1", "pending_approval")),
        Tokens("t"),
        monkeypatch,
    )
    with pytest.raises(PollingTimeout) as err:
        stuck.spend_requests.wait_for("lsrq_1", interval=0.01, max_attempts=3, sleep=lambda s: None)
    assert err.value.extra["status"] == "pending_approval"


def test_error_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        [
            httpx2.Response(
                429,
                json={
                    "error": {
                        "code": "spend_request_rate_limited",
                        "message": "dup",
                        "retry_after": 30,
                        "duplicate_spend_request": {"id": "lsrq_9"},
                    }
                },
            ),
            httpx2.Response(500, text="oops"),
            httpx2.Response(200, text="<html>"),
            httpx2.Response(200, json={"unexpected": True}),
        ]
    )
    link = _link(tmp_path, lambda request: next(answers), Tokens("t"), monkeypatch)
    with pytest.raises(ApiError) as dup:
        link.spend_requests.list()
    assert dup.value.code == "spend_request_rate_limited" and dup.value.extra["retry_after"] == 30
    for _ in range(3):
        with pytest.raises(InvalidResponse):
            link.spend_requests.list()


class _RecordingProxy(socketserver.BaseRequestHandler):
    lines: list[str] = []

    def handle(self) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(4096)
            if not chunk:
                break
            data += chunk
        _RecordingProxy.lines.append(data.split(b"\r\n", 1)[0].decode())
        body = json.dumps({"email": "via-proxy@example.com"}).encode()
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )


def test_link_http_proxy_routes_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), _RecordingProxy) as proxy:
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            monkeypatch.setenv("LINK_HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
            monkeypatch.setenv("LINK_ACCESS_TOKEN", "t")
            link = Link(api_base_url="http://wallet.invalid:8765", auth_file=tmp_path / "a.json")
            assert link.user_info.retrieve().email == "via-proxy@example.com"
            assert _RecordingProxy.lines[-1] == "GET http://wallet.invalid:8765/userinfo HTTP/1.1"
        finally:
            proxy.shutdown()


def test_parallel_processes_do_not_replay_a_rotated_refresh_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/device/token":
            token = dict(pair.split("=") for pair in request.content.decode().split("&"))[
                "refresh_token"
            ]
            if token in used:  # rotation: a refresh token works once
                return httpx2.Response(400, json={"error": "invalid_grant"})
            used.append(token)
            return httpx2.Response(200, json=_token_json(len(used)))
        return httpx2.Response(200, json={"email": "a@example.com"})

    expired = Tokens("access-0", "refresh-0", expires_at=time.time() - 1)
    first = _link(tmp_path, handler, expired, monkeypatch)
    second = _link(tmp_path, handler, None, monkeypatch)
    assert second.tokens is not None  # loaded the expired pair before the first refreshed
    first.user_info.retrieve()
    second.user_info.retrieve()  # adopts the first one's new tokens instead of replaying
    assert used == ["refresh-0"]
    assert second.tokens.access_token == "access-1"  # type: ignore[union-attr]
