"""link-cli's fast `spend-request retrieve ID` GET (`client/plain_get.py`, no httpx2)
answers exactly as the SDK path does, whatever the other end says: each case runs the
real `link-cli` twice, as `retrieve ID` (fast) and `retrieve --id ID` (cyclopts + the
SDK's httpx2 session), against a loopback server that answers with fixed bytes, and
compares stdout, stderr and the exit code. Answers `plain_get` does not take on (chunked,
compressed, HTTP/0.9 garbage, HTTPS, …) must send it to the SDK (httpx2 imported).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Outcome, run_link_cli
from hypothesis import given, settings
from hypothesis import strategies as st

IDENT = "lsrq_canned"
ANSWER = {
    "id": IDENT,
    "object": "spend_request",
    "status": "pending_approval",
    "merchant_name": "Mugs",
    "merchant_url": "https://mugs.example",
    "context": "One mug.",
    "amount": 1200,
    "currency": "usd",
    "credential_type": "card",
    "created_at": "2026-11-30T09:44:04Z",
    "updated_at": "2026-11-30T09:44:04Z",
    "livemode": False,
}


class CannedServer:
    """Accepts connections on loopback; answers each request with `self.answer`
    (bytes, sent as they are; None: read the request and never answer)."""

    def __init__(self) -> None:
        self.answer: bytes | None = b""
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            received = b""
            try:
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except OSError:
                pass
            self.requests.append(received)
            if self.answer is None:
                self._open.append(conn)  # hold it: the client times out
                continue
            try:
                conn.sendall(self.answer)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def canned(cli_env: dict[str, str], tmp_path: Path) -> Iterator[CannedServer]:
    server = CannedServer()
    cli_env["LINK_API_BASE_URL"] = server.url
    cli_env["LINK_AUTH_BASE_URL"] = server.url
    _write_tokens(Path(cli_env["LINK_AUTH_FILE"]), access_token="tok_canned")
    yield server
    server.close()


def _write_tokens(path: Path, **tokens: Any) -> None:
    path.write_text(json.dumps(tokens), encoding="utf-8")
    path.chmod(0o600)


def _http(status: str, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _json(status: str, data: Any, *headers: str) -> bytes:
    return _http(status, json.dumps(data).encode(), "Content-Type: application/json", *headers)


def both(env: dict[str, str], *extra: str) -> tuple[Outcome, set[str]]:
    """(fast outcome, its modules) after checking it equals the SDK path's."""
    fast, modules = run_link_cli(["spend-request", "retrieve", IDENT, *extra], env)
    full, full_modules = run_link_cli(["spend-request", "retrieve", "--id", IDENT, *extra], env)
    assert "cyclopts" in full_modules
    assert (fast.code, fast.stdout, fast.stderr) == (full.code, full.stdout, full.stderr)
    return fast, modules


ANSWERED = {  # plain_get answers these itself
    "ok": _json("200 OK", ANSWER),
    "ok, HTTP/1.0": _json("200 OK", ANSWER).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    "ok, no reason phrase": _json("200", ANSWER),
    "ok, identity coding": _json("200 OK", ANSWER, "Content-Encoding: identity"),
    "not found": _json("404 Not Found", {"error": {"code": "not_found", "message": "Gone."}}),
    "404 with its own code": _json("404 Not Found", {"error": {"code": "no_such_thing"}}),
    "401": _json("401 Unauthorized", {"error": {"code": "unauthorized", "message": "No."}}),
    "500 with JSON": _json("500 Internal Server Error", {"error": {"code": "boom"}}),
    "502 from a proxy": _http("502 Bad Gateway", b"<html>bad gateway</html>"),
    "503 with retry": _json(
        "503 Service Unavailable",
        {"error": {"code": "overloaded", "message": "Busy.", "retry_after": 2}},
    ),
    "429": _json(
        "429 Too Many Requests",
        {"error": {"code": "rate_limited", "message": "Slow down.", "param": "id"}},
    ),
    "oauth style": _json("400 Bad Request", {"error": "invalid_grant"}),
    "empty 500": _http("500 Internal Server Error", b""),
    "redirect": _http("302 Found", b"", "Location: http://elsewhere.example/"),
    "bad JSON": _http("200 OK", b"{not json", "Content-Type: application/json"),
    "not UTF-8": _http("200 OK", b'{"id": "\xff"}', "Content-Type: application/json"),
    "empty 200": _http("200 OK", b""),
    "JSON that is no spend request": _json("200 OK", [1, 2, 3]),
    "ok, an amount pydantic coerces": _json("200 OK", {**ANSWER, "amount": "1200"}),
}
DECLINED = {  # plain_get hands these to the SDK
    "chunked": _http(
        "200 OK",
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(json.dumps(ANSWER)), json.dumps(ANSWER).encode()),
        "Transfer-Encoding: chunked",
    ),
    "gzip": _http("200 OK", b"\x1f\x8b garbage", "Content-Encoding: gzip"),
    "no length, closed": b"HTTP/1.1 200 OK\r\n\r\n" + json.dumps(ANSWER).encode(),
    "short body": _http("200 OK", b'{"id"', "Content-Length: 90"),
    "garbage": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "closed at once": b"",
    "100 continue first": b"HTTP/1.1 100 Continue\r\n\r\n" + _json("200 OK", ANSWER),
    "two lengths": _http("200 OK", b"{}", "Content-Length: 2", "Content-Length: 2"),
}


@pytest.mark.parametrize("case", sorted(ANSWERED))
def test_answers_like_the_sdk(case: str, canned: CannedServer, cli_env: dict[str, str]) -> None:
    canned.answer = ANSWERED[case]
    fast, modules = both(cli_env, "--format", "json")
    assert "httpx2" not in modules, case
    if case.startswith("ok"):
        assert fast.code == 0 and fast.json()["id"] == IDENT
    else:
        assert fast.code == 1 and set(fast.json()) >= {"code", "message"}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_hands_the_rest_to_the_sdk(
    case: str, canned: CannedServer, cli_env: dict[str, str]
) -> None:
    canned.answer = DECLINED[case]
    _fast, modules = both(cli_env, "--format", "json")
    assert "httpx2" in modules, case


def test_the_request_it_sends(canned: CannedServer, cli_env: dict[str, str]) -> None:
    """Same request line, Host, Accept, Accept-Encoding, User-Agent and bearer token as
    the SDK's httpx2 client (httpx2 adds keep-alive; plain_get closes)."""
    from linkpay import __version__

    canned.answer = ANSWERED["ok"]
    both(cli_env, "--include", "shared_payment_token", "--include", "card")
    fast, full = canned.requests[-2:]

    def headers(raw: bytes) -> tuple[str, dict[str, str]]:
        line, *rest = raw.decode().split("\r\n")
        fields = dict(h.split(": ", 1) for h in rest if h)
        return line, {k.lower(): v for k, v in fields.items() if k.lower() != "connection"}

    assert headers(fast) == headers(full)
    line, fields = headers(fast)
    assert line == (
        f"GET /spend_requests/{IDENT}?include=card&include=shared_payment_token HTTP/1.1"
    )
    assert fields["user-agent"] == f"link-cli/{__version__}"
    assert fields["authorization"] == "Bearer tok_canned"
    assert fields["accept"] == "application/json"


def test_refused_and_https(cli_env: dict[str, str]) -> None:
    """Nothing listening (cli_env's closed port): the SDK words it. An https:// wallet
    URL is the SDK's (its TLS verification); here the peer speaks no TLS at all."""
    _write_tokens(Path(cli_env["LINK_AUTH_FILE"]), access_token="tok")
    refused, _ = both(cli_env, "--json")
    assert refused.json()["code"] == "NETWORK_ERROR"
    server = CannedServer()
    try:
        server.answer = ANSWERED["ok"]
        https = {**cli_env, "LINK_API_BASE_URL": server.url.replace("http:", "https:")}
        tls, modules = both(https, "--json")
        assert tls.json()["code"] == "NETWORK_ERROR" and "httpx2" in modules
    finally:
        server.close()


def test_refresh_is_the_sdks(canned: CannedServer, cli_env: dict[str, str]) -> None:
    """An expired token with a refresh token, or a 401 while one is at hand: the SDK
    refreshes (here the refresh is refused too), plain_get never does."""
    auth_file = Path(cli_env["LINK_AUTH_FILE"])
    canned.answer = ANSWERED["401"]
    _write_tokens(auth_file, access_token="tok", refresh_token="ref")
    answer, modules = both(cli_env, "--json")
    assert answer.json()["code"] == "NOT_AUTHENTICATED" and "httpx2" in modules
    canned.answer = ANSWERED["ok"]
    _write_tokens(auth_file, access_token="tok", refresh_token="ref", expires_at=time.time())
    _fast, modules = both({**cli_env, "LINK_NO_REFRESH": "1"}, "--json")
    assert "httpx2" not in modules  # no refresh allowed: the stale token is sent as is
    _write_tokens(auth_file, access_token="tok", refresh_token="ref", expires_at=1)
    _fast, modules = both(cli_env, "--json")
    assert "httpx2" in modules


@pytest.mark.parametrize(
    "tokens",
    [
        {"refresh_token": "ref"},  # no access token
        {"access_token": 5},
        {"access_token": "tok", "expires_at": "soon"},
        {"access_token": "tok with spaces"},
        ["not", "an", "object"],
    ],
)
def test_odd_token_files(tokens: Any, canned: CannedServer, cli_env: dict[str, str]) -> None:
    canned.answer = ANSWERED["ok"]
    path = Path(cli_env["LINK_AUTH_FILE"])
    path.write_text(json.dumps(tokens), encoding="utf-8")
    path.chmod(0o600)
    both(cli_env, "--json")


@pytest.mark.parametrize(
    "base",
    ["HTTP://LOCALHOST:{port}", "http://127.0.0.1:{port}/a/%7e/", "http://127.0.0.1:{port}/a/../b"],
)
def test_base_urls(base: str, canned: CannedServer, cli_env: dict[str, str]) -> None:
    """Spellings of the wallet URL: both clients send the same request line and Host."""
    canned.answer = ANSWERED["ok"]
    url = base.format(port=canned.url.rsplit(":", 1)[1])
    both({**cli_env, "LINK_API_BASE_URL": url}, "--json")
    fast, full = (r.split(b"\r\n")[:2] for r in canned.requests[-2:])
    assert fast == full


def test_env_tokens_and_base_url_prefix(canned: CannedServer, cli_env: dict[str, str]) -> None:
    canned.answer = ANSWERED["ok"]
    env = {**cli_env, "LINK_ACCESS_TOKEN": "tok_env", "LINK_API_BASE_URL": canned.url + "/api/"}
    answer, modules = both(env, "--json")
    assert answer.code == 0 and "httpx2" not in modules
    assert canned.requests[-1].startswith(f"GET /api/spend_requests/{IDENT} ".encode())
    assert b"Bearer tok_env" in canned.requests[-1]


@pytest.mark.parametrize(
    "ident", ["näive id/with spaces?&#", "..", ".", "%2e%2E", "a" * 200, "~tilde_-.x"]
)
def test_awkward_ids(ident: str, canned: CannedServer, cli_env: dict[str, str]) -> None:
    canned.answer = ANSWERED["not found"]
    fast, _ = run_link_cli(["spend-request", "retrieve", ident, "--json"], cli_env)
    full, _ = run_link_cli(["spend-request", "retrieve", "--id", ident, "--json"], cli_env)
    assert (fast.code, fast.stdout) == (full.code, full.stdout)
    fast_request, full_request = (r.split(b"\r\n")[0] for r in canned.requests[-2:])
    assert fast_request == full_request


def test_timeout_is_worded_like_the_sdk(
    canned: CannedServer, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wallet that accepts and never answers: both clients give up after their
    timeout (shortened here) with the same NETWORK_ERROR."""
    from linkpay.client import Link, LinkError, plain_get

    canned.answer = None
    monkeypatch.setenv("LINK_API_BASE_URL", canned.url)
    monkeypatch.setattr(plain_get, "TIMEOUT_SECONDS", 0.3)
    with pytest.raises(LinkError) as fast:
        plain_get.fetch(f"/spend_requests/{IDENT}", "", auth_file=None)
    with Link(timeout=0.3) as link, pytest.raises(LinkError) as sdk:
        link.spend_requests.fetch(IDENT)
    assert fast.value.to_dict() == sdk.value.to_dict()
    assert fast.value.code == "NETWORK_ERROR" and "in time" in fast.value.message


def test_constants_follow_the_sdk() -> None:
    import httpx2._client

    from linkpay.client import _http, plain_get

    assert plain_get.DEFAULT_BASE_URL == _http.DEFAULT_BASE_URL
    assert plain_get.ACCEPT_ENCODING == httpx2._client.ACCEPT_ENCODING


def test_proxy_and_verbose_are_the_sdks(canned: CannedServer, cli_env: dict[str, str]) -> None:
    canned.answer = ANSWERED["ok"]
    _fast, modules = both({**cli_env, "LINK_HTTP_PROXY": canned.url}, "--json")
    assert "httpx2" in modules
    argv = ["spend-request", "retrieve", IDENT, "--json", "--verbose"]
    verbose, modules = run_link_cli(argv, cli_env)
    assert verbose.code == 0 and "httpx2" in modules
    assert re.fullmatch(
        rf"\[http\] GET {canned.url}/spend_requests/{IDENT} -> 200 \(\d+ ms\)", verbose.stderr
    )


@settings(deadline=None)  # a busy CI box must not fail a pure function on time
@given(st.text(max_size=30))
def test_quote_is_urllib_quote(value: str) -> None:
    from urllib.parse import quote

    from linkpay.cli.fast import _quote

    try:
        expected = quote(value, safe="")
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            _quote(value)
        return
    assert _quote(value) == expected


@settings(deadline=None)
@given(st.lists(st.sampled_from(["/", ".", "..", "a", "b.json", "~", " "]), max_size=6))
def test_auth_file_path_is_pathlibs(parts: list[str]) -> None:
    """The fast path opens the token file by the text given when pathlib would spell it
    the same, so both paths open the same file and word errors the same."""
    from linkpay.client.token_file import auth_file_path

    text = "".join(parts)
    if not text:
        return
    found = auth_file_path(text)
    assert str(found) == str(Path(text))
    if isinstance(found, str):
        assert found == text


def test_auth_file_spellings(canned: CannedServer, cli_env: dict[str, str], tmp_path: Path) -> None:
    """An auth file readable by others is refused in pathlib's spelling of its path; one
    named with a trailing slash or doubled slashes is opened as pathlib opens it."""
    canned.answer = ANSWERED["ok"]
    loose = tmp_path / "loose.json"
    loose.write_text('{"access_token": "tok"}', encoding="utf-8")
    loose.chmod(0o644)
    for name in (str(loose), f"{tmp_path}//loose.json"):
        refused, _ = both({**cli_env, "LINK_AUTH_FILE": name}, "--json")
        assert refused.code == 1 and f"auth file {loose}: it is readable" in refused.stdout
    ok = tmp_path / "ok.json"
    _write_tokens(ok, access_token="tok")
    for name in (f"{ok}/", f"{tmp_path}/./ok.json"):
        answer, _ = both({**cli_env, "LINK_AUTH_FILE": name}, "--json")
        assert answer.code == 0, answer


@pytest.mark.parametrize(
    ("xdg", "home"),
    [
        (None, "/home/agent"),
        (None, "/home/agent/"),
        (None, "/"),
        (None, "relative/home"),
        (None, None),
        ("/cfg", "/home/agent"),
        ("/cfg/", "/home/agent"),
        ("/cfg//deep/./x", "/home/agent"),
        ("relative/cfg", "/home/agent"),
        ("", "/home/agent"),
        ("/with space/é", None),
    ],
)
def test_default_auth_file_is_platformdirs(
    xdg: str | None, home: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --auth or LINK_AUTH_FILE the fast path finds the default token file
    without platformdirs where it can; it must be the file platformdirs names."""
    from linkpay.client.token_file import auth_file_path, default_auth_file

    monkeypatch.delenv("LINK_AUTH_FILE", raising=False)
    for name, value in (("XDG_CONFIG_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    found = auth_file_path()
    assert str(found) == str(default_auth_file())
    if xdg in ("/cfg", "/with space/é") or (xdg is None and home == "/home/agent"):
        assert isinstance(found, str)  # no pathlib, no platformdirs


def test_default_auth_file_without_platformdirs(
    canned: CannedServer, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    canned.answer = ANSWERED["ok"]
    monkeypatch.delenv("LINK_AUTH_FILE")
    env = {k: v for k, v in cli_env.items() if k != "LINK_AUTH_FILE"}
    default = Path(env["XDG_CONFIG_HOME"]) / "link-cli" / "auth.json"
    default.parent.mkdir(parents=True)
    _write_tokens(default, access_token="tok_default")
    answer, modules = both(env, "--json")
    assert answer.code == 0 and b"Bearer tok_default" in canned.requests[-1]
    assert not {"platformdirs", "pathlib", "httpx2"} & modules
