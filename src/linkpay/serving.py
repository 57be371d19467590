"""Serve an ASGI app with uvicorn on 127.0.0.1 in a daemon thread: the embedded wallet,
the demo merchant and test servers all start this way.

The socket is bound before the app is built, so the app can know its own base URL
(port 0 = any free port), and `serve_in_thread` returns only once uvicorn accepts
requests. uvicorn is imported when a server starts, never at import time.

    with serve_in_thread(lambda base_url: make_app(base_url)) as served:
        served.base_url   # http://127.0.0.1:<port>

`serve_workers` runs a uvicorn config as several worker processes on one port.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

_STARTUP_TIMEOUT_SECONDS = 30.0


def free_loopback_port() -> int:
    """A loopback port that was free a moment ago, for a process started elsewhere
    (a subprocess, a test peer). Servers started here bind port 0 instead (no race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedApp:
    """A running server; `stop()` (or leaving the `with` block) shuts it down."""

    def __init__(
        self, app: Any, base_url: str, server: Any, thread: threading.Thread, sock: socket.socket
    ) -> None:
        self.app = app
        self.base_url = base_url
        self.port = int(sock.getsockname()[1])
        self._server = server
        self._thread = thread
        self._socket = sock

    def begin_stop(self) -> None:
        """Ask uvicorn to shut down without waiting (its shutdown sleeps 0.1 s): servers
        stopped together then wait that out once, not each."""
        self._server.request_exit()

    def stop(self) -> None:
        self.begin_stop()
        self._thread.join(timeout=15)
        self._socket.close()

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    app_factory: Callable[[str], Any],
    *,
    port: int = 0,
    name: str = "linkpay-server",
    lifespan: Literal["auto", "on", "off"] = "off",
    timeout_graceful_shutdown: int | None = None,
    http: Literal["auto", "h11", "httptools"] = "auto",
) -> ServedApp:
    """Bind 127.0.0.1:`port`, build the app for its base URL, serve it with uvicorn
    (`http`: its HTTP implementation; "auto" is httptools, installed with us).

    OSError when the port cannot be bound; RuntimeError when uvicorn does not start
    (the socket is closed either way). Whatever `app_factory` raises propagates."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it keep-alive requests stall ~40 ms (Nagle +
    # delayed ACK), as uvicorn only sets it on sockets it binds itself.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = app_factory(base_url)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan=lifespan,
            timeout_graceful_shutdown=timeout_graceful_shutdown,
            http=http,
        )
        server = _server_class()(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"{name} failed to start on {base_url}")
            server.ready.wait(0.01)  # set as its main loop starts: no 10 ms poll slept out
    except BaseException:
        sock.close()
        raise
    return ServedApp(app, base_url, server, thread, sock)


@functools.cache
def _server_class() -> Any:
    import uvicorn

    class WakeableServer(uvicorn.Server):
        """uvicorn looks at `should_exit` every 0.1 s; `request_exit` wakes it at once
        (stopping the demo's servers waited ~50 ms for the tick, up to 0.1 s). `ready` is
        set once it serves (after `started`)."""

        _wake: asyncio.Event | None = None
        _loop: asyncio.AbstractEventLoop | None = None

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.ready = threading.Event()  # started: serve_in_thread need not poll

        async def main_loop(self) -> None:
            self._wake = asyncio.Event()
            self._loop = asyncio.get_running_loop()  # set before the first look below
            self.ready.set()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 1) % 864000  # on_tick refreshes the Date every 10
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.1)

        def request_exit(self) -> None:
            self.should_exit = True  # before reading _loop: main_loop sees one or the other
            loop, wake = self._loop, self._wake
            if loop is not None and wake is not None:
                with contextlib.suppress(RuntimeError):  # its loop has closed already
                    loop.call_soon_threadsafe(wake.set)

    return WakeableServer


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A TCP socket listening on host:port in a SO_REUSEPORT group, for one worker.

    With the protocol number given (uvicorn leaves it out), asyncio sets TCP_NODELAY on
    the connections it accepts; without it each keep-alive answer (headers and body are
    two writes) stalled ~40 ms on Nagle + delayed ACK (measured: 2 workers answered 16
    keep-alive clients at 360 req/s where 1 worker did 1,800). Accepted sockets also
    inherit the option set here."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


class _OwnSocket:
    """Stands in for the listening socket in what uvicorn hands each worker process.
    The worker is spawned, so this is pickled, and unpickling it in the worker binds a
    `listening_socket` of the worker's own."""

    def __init__(self, host: str, port: int, backlog: int) -> None:
        self.args = (host, port, backlog)

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return listening_socket, self.args


def serve_workers(config: Any) -> None:
    """Run `config.workers` uvicorn worker processes on one port until stopped: what
    `uvicorn.run(..., workers=N)` does, with two differences measured under keep-alive
    load. uvicorn shares one listening socket, and whichever worker wakes first
    accepts a whole burst of connections (64 wrk connections split 48/16 or 55/9, so
    one worker did most of the work); here each worker listens on a socket of its own
    in a SO_REUSEPORT group, and the kernel spreads connections evenly. And TCP_NODELAY
    is on (see `listening_socket`)."""
    from uvicorn.supervisors import Multiprocess

    # Bound, not listening: the port is checked (and kept) before any worker starts, and
    # the kernel hands connections only to the workers' listening sockets.
    reserved = socket.socket(
        socket.AF_INET6 if ":" in config.host else socket.AF_INET, socket.SOCK_STREAM
    )
    try:
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserved.bind((config.host, config.port))
        port = int(reserved.getsockname()[1])
        own = _OwnSocket(config.host, port, config.backlog)
        Multiprocess(config, sockets=[own]).run()  # type: ignore[list-item]
    except KeyboardInterrupt:
        pass
    finally:
        reserved.close()
