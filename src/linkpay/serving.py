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
        """Ask uvicorn to shut down without waiting (its shutdown takes ~0.2 s of ticks
        and sleeps): servers stopped together then wait those out once, not each."""
        self._server.should_exit = True

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
) -> ServedApp:
    """Bind 127.0.0.1:`port`, build the app for its base URL, serve it with uvicorn.

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
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"{name} failed to start on {base_url}")
            time.sleep(0.01)
    except BaseException:
        sock.close()
        raise
    return ServedApp(app, base_url, server, thread, sock)


def worker_socket(config: Any) -> socket.socket:
    """The listening socket for `config` (host/port as uvicorn binds it), with
    TCP_NODELAY, which the connections accepted on it inherit.

    uvicorn binds its multi-worker socket without the TCP protocol number, so asyncio
    does not set TCP_NODELAY on the connections it accepts, and each keep-alive answer
    (headers and body are two writes) stalls ~40 ms on Nagle + delayed ACK: measured,
    2 workers answered 16 keep-alive clients at 360 req/s where 1 worker did 1,800."""
    sock: socket.socket = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def serve_workers(config: Any) -> None:
    """Run `config.workers` uvicorn worker processes on one `worker_socket` until
    stopped: what `uvicorn.run(..., workers=N)` does, without the 40 ms stalls."""
    from uvicorn.supervisors import Multiprocess

    sock = worker_socket(config)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
