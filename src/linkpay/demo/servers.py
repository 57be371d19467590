"""Run an ASGI app with uvicorn on a loopback port in a background thread (the demo
merchant), and small network helpers."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def free_loopback_port() -> int:
    """A port that was free a moment ago (the demo binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    """uvicorn serving `app` on 127.0.0.1:`port` until `stop()`; also a context manager."""

    def __init__(self, app: Any, port: int, *, startup_timeout: float = 15.0) -> None:
        import uvicorn

        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"demo-server-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the demo merchant could not start on port {port}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the demo merchant did not start on port {port} in time")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wallet_reachable(base_url: str, timeout: float = 2.0) -> bool:
    """True when something answering HTTP listens at `base_url` (any status counts)."""
    import httpx2

    try:
        httpx2.get(base_url.rstrip("/") + "/openapi.json", timeout=timeout)
    except httpx2.HTTPError:
        return False
    return True
