"""`link-cli --mcp` (`cli/mcp_stdio.py`, no mcp SDK) against the SDK's own stdio server
built from the same tools: one scripted session, sent message by message to both, must
get the same answers (as JSON values) — handshake, version negotiation, listings, tool
results and errors, and silence where the SDK stays silent. Also: the SDK is never
imported, and every tool call of a session shares one HTTP connection to the wallet."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

LINK_CLI = str(Path(sys.executable).parent / "link-cli")
SDK_SERVER = [
    sys.executable,
    "-c",
    "from linkpay.cli.mcp_server import build_server; build_server().run()",
]


def _init(ident: Any, version: Any = "2025-11-25", **params: Any) -> dict[str, Any]:
    body = {
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "pytest", "version": "1"},
        **params,
    }
    return {"jsonrpc": "2.0", "id": ident, "method": "initialize", "params": body}


def _req(ident: Any, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
    if params is not None:
        message["params"] = params
    return message


def _call(ident: Any, name: Any, arguments: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return _req(ident, "tools/call", params)


# (message, answered?) in order; a str is sent as the raw line.
SESSION: list[tuple[Any, bool]] = [
    ("not json", False),
    ('[{"jsonrpc":"2.0","id":90,"method":"ping"}]', False),
    (_req(1, "ping"), True),
    (_req(2, "tools/list"), True),  # before initialize
    (_req(3, "server/discover", {"protocolVersion": "2026-07-28"}), True),
    ({**_init(4), "params": {"protocolVersion": "2025-11-25"}}, True),
    (_init(5, version=7), True),
    (_init(6, version="1999-01-01"), True),
    (_init(7, version="2024-11-05"), True),
    (_init(8, version="2026-07-28"), True),
    (_init(9), True),
    ({"jsonrpc": "2.0", "method": "notifications/initialized"}, False),
    ({"id": 91, "method": "ping"}, False),
    (_req(92, "ping", []), False),
    ({"jsonrpc": "2.0", "id": None, "method": "ping"}, False),
    ({"jsonrpc": "2.0", "id": 93, "result": {}}, False),
    (_req("s", "ping", {"_meta": {"progressToken": 1}}), True),
    (_req(10, "tools/list"), True),
    (_req(11, "tools/list", {"cursor": None}), True),
    (_req(12, "tools/list", {"cursor": 5}), True),
    (_req(13, "resources/list"), True),
    (_req(14, "resources/templates/list"), True),
    (_req(15, "prompts/list"), True),
    (_req(16, "logging/setLevel", {"level": "info"}), True),
    (_req(17, "bogus/method"), True),
    (_call(18, "auth_status", {}), True),
    (_call(19, "auth_status"), True),
    (_call(20, "auth_status", {"bogus": 1}), True),
    (_call(21, "spend_request_retrieve", {"id": 5}), True),
    (_call(22, "spend_request_retrieve", {}), True),
    (_call(23, "spend_request_retrieve", {"id": "lsrq_1", "interval": None}), True),
    (_call(24, "nope", {}), True),
    (_req(25, "tools/call", {"arguments": {}}), True),
    (_call(26, "auth_status", [1]), True),
    (_call(27, 5), True),
    (_call(28, "spend_request_create", {"amount": 0, "context": "short"}), True),
    (_req(29, "ping", {"unknown": 1}), True),
    ({"jsonrpc": "2.0", "id": 30, "method": "ping", "params": None}, True),
    (_req(31, "tools/call", {"name": "auth_status", "arguments": None}), True),
    (_req(32, "tools/list", {"_meta": 5}), True),
    (_req(33, "prompts/get", {"name": "x"}), True),
    (_req(35, "prompts/get", {}), True),
    (_req(36, "resources/read", {"uri": "x://y"}), True),
    (_req(37, "resources/read", {"uri": 5}), True),
    ({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}}, False),
    (_req(34, "initialize", {"protocolVersion": "2025-06-18"}), True),
]


class Peer:
    """A server process and a reader thread collecting its answers by id."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.answers: dict[Any, dict[str, Any]] = {}
        self.extra: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            with self.changed:
                if "id" in message and message["id"] not in self.answers:
                    self.answers[message["id"]] = message
                else:
                    self.extra.append(message)
                self.changed.notify_all()

    def send(self, message: Any) -> None:
        assert self.proc.stdin is not None
        line = message if isinstance(message, str) else json.dumps(message)
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def wait_for(self, ident: Any, timeout: float = 60) -> dict[str, Any]:
        with self.changed:
            assert self.changed.wait_for(lambda: ident in self.answers, timeout), ident
            return self.answers[ident]

    def close(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")


def _play(peer: Peer) -> list[Any]:
    """Each message, then a ping to sync on; the answer to the message, or None."""
    seen = []
    for number, (message, answered) in enumerate(SESSION):
        peer.send(message)
        sync = f"sync-{number}"
        peer.send(_req(sync, "ping"))
        peer.wait_for(sync)
        ident = message.get("id") if isinstance(message, dict) else None
        if answered:
            seen.append(peer.wait_for(ident))
        else:
            seen.append(None)
    return seen


def test_the_stdio_server_answers_as_the_sdk_does(cli_env: dict[str, str]) -> None:
    env = {**os.environ, **cli_env}
    sdk, ours = Peer(SDK_SERVER, env), Peer([LINK_CLI, "--mcp"], env)
    try:
        expected, got = _play(sdk), _play(ours)
    finally:
        sdk.close()
        ours.close()
    for (message, _answered), theirs, mine in zip(SESSION, expected, got, strict=True):
        assert mine == theirs, message
    assert sdk.extra == ours.extra == []  # no unsolicited messages, no duplicate answers
    listed = next(a for a in got if a and a["id"] == 10)["result"]["tools"]
    assert {"spend_request_retrieve", "auth_status"} <= {tool["name"] for tool in listed}


def test_stdio_session_never_imports_the_sdk(cli_env: dict[str, str]) -> None:
    env = {**os.environ, **cli_env, "PYTHONPROFILEIMPORTTIME": "1"}
    peer = Peer([LINK_CLI, "--mcp"], env)
    peer.send(_init(1))
    assert peer.wait_for(1)["result"]["serverInfo"]["name"] == "link-cli"
    peer.send(_req(2, "tools/list"))
    peer.wait_for(2)
    peer.send(_call(3, "auth_status", {}))
    assert peer.wait_for(3)["result"]["isError"] is False
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in peer.close().splitlines()
        if line.startswith("import time:")
    }
    assert "linkpay.cli.registry" in modules  # the listing is real
    assert not {m for m in modules if m.split(".")[0] in ("mcp", "mcp_types", "cyclopts")}


class CountingRelay:
    """A TCP relay to the wallet that counts the connections made through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


@pytest.mark.only_database("sqlite")
def test_tool_calls_share_one_http_connection(
    wallet: Any, logged_in: str, cli_env: dict[str, str]
) -> None:
    relay = CountingRelay(int(wallet.base_url.rsplit(":", 1)[1]))
    url = f"http://127.0.0.1:{relay.port}"
    env = {**os.environ, **cli_env, "LINK_API_BASE_URL": url, "LINK_AUTH_BASE_URL": url}
    peer = Peer([LINK_CLI, "--mcp"], env)
    try:
        peer.send(_init(1))
        peer.wait_for(1)
        for ident in range(2, 6):
            peer.send(_call(ident, "spend_request_list", {}))
            answer = peer.wait_for(ident)["result"]
            assert answer["isError"] is False, answer
        peer.send(_call(6, "user_info_retrieve", {}))
        assert peer.wait_for(6)["result"]["isError"] is False
    finally:
        peer.close()
        relay.close()
    assert relay.connections == 1
