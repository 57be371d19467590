"""`linkpay.serving.serve_workers`, which `link-wallet serve --workers N` runs: each
worker listens on a socket of its own in a SO_REUSEPORT group (uvicorn's one shared
socket let the first worker to wake take a whole burst of keep-alive connections), and
the connections have TCP_NODELAY (without it every keep-alive answer stalled ~40 ms)."""

from __future__ import annotations

import collections
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from linkpay.serving import free_loopback_port, listening_socket, serve_workers

APP = """
import os

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""
LAUNCHER = """
import sys

import uvicorn

from linkpay.serving import serve_workers

if __name__ == "__main__":
    serve_workers(uvicorn.Config("pid_app:app", port=int(sys.argv[1]), workers=2,
                                 log_level="warning", lifespan="off"))
"""


def test_connections_accepted_on_a_worker_socket_have_tcp_nodelay() -> None:
    listener = listening_socket("127.0.0.1", 0, 16)
    try:
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _peer = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                assert accepted.proto == socket.IPPROTO_TCP  # so asyncio sets it too
    finally:
        listener.close()


def test_uvicorns_own_worker_socket_lacks_tcp_nodelay() -> None:
    """Why `listening_socket` exists: if uvicorn starts setting the option itself, that
    part of it can go."""
    config = uvicorn.Config("pid_app:app", port=free_loopback_port(), workers=2)
    listener = config.bind_socket()
    try:
        assert listener.proto == 0  # asyncio's _set_nodelay skips sockets without IPPROTO_TCP
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        listener.close()


def _pid_of_answer(connection: socket.socket) -> str:
    connection.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().split(b"\r\n")[-1].isdigit():
        chunk = connection.recv(4096)
        assert chunk, data
        data += chunk
    return data.rstrip().split(b"\r\n")[-1].decode()


def test_two_workers_share_a_burst_of_keep_alive_connections(tmp_path: Path) -> None:
    (tmp_path / "pid_app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "launcher.py").write_text(textwrap.dedent(LAUNCHER))
    port = free_loopback_port()
    server = subprocess.Popen([sys.executable, "launcher.py", str(port)], cwd=tmp_path)
    connections: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        pids: set[str] = set()
        while len(pids) < 2:  # both workers up (each answers on a connection it accepted)
            assert server.poll() is None and time.monotonic() < deadline
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                    pids.add(_pid_of_answer(probe))
            except ConnectionRefusedError:
                time.sleep(0.05)
        # The burst: 40 connections opened at once, then one request on each.
        connections = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
        served = collections.Counter(_pid_of_answer(c) for c in connections)
        assert set(served) == pids
        assert min(served.values()) >= 6, served  # binomial(40, 1/2): below 6 is ~1e-6
    finally:
        for connection in connections:
            connection.close()
        server.terminate()
        server.wait(timeout=30)


def test_a_port_in_use_fails_before_any_worker_starts() -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        config = uvicorn.Config("pid_app:app", port=taken.getsockname()[1], workers=2)
        with pytest.raises(OSError):
            serve_workers(config)
    finally:
        taken.close()


async def _ok_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_served_app_stops_when_asked_and_releases_its_port() -> None:
    """`stop()` wakes uvicorn's main loop instead of waiting for its 0.1 s tick; asking
    again (or after it stopped) is harmless."""
    from linkpay.serving import serve_in_thread

    served = serve_in_thread(lambda _base_url: _ok_app)
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert conn.recv(1024).startswith(b"HTTP/1.1 200")
    served.begin_stop()
    served.stop()
    served.stop()
    assert not served._thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", served.port), timeout=5).close()


# uvicorn ends its thread with SystemExit(3) on a failed startup; that is what we detect.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_server_whose_startup_fails_is_reported_not_waited_for() -> None:
    """A lifespan that fails ends uvicorn's thread before it serves: RuntimeError."""
    from linkpay.serving import serve_in_thread

    async def failing_lifespan(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "no"})

    with pytest.raises(RuntimeError, match="failed to start"):
        serve_in_thread(lambda _base_url: failing_lifespan, lifespan="on", name="broken")
