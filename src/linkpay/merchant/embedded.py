"""The demo merchant in a background thread on loopback: for tests, `demo` and benches.

    settings = MerchantSettings(wallet_url=..., api_key=..., network_id=...)
    with start_embedded_merchant(settings) as m:
        m.base_url   # http://127.0.0.1:<port>; the paid API is f"{m.base_url}/api/fortune"

Any ASGI app can be served the same way with `serve_in_thread(app_factory)`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from linkpay.merchant.settings import MerchantSettings

_STARTUP_TIMEOUT_SECONDS = 30.0


class ServedApp:
    def __init__(
        self, app: Any, base_url: str, server: Any, thread: threading.Thread, sock: socket.socket
    ) -> None:
        self.app = app
        self.base_url = base_url
        self._server = server
        self._thread = thread
        self._socket = sock

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(app_factory: Callable[[str], Any], *, port: int = 0) -> ServedApp:
    """Bind 127.0.0.1, build the app for its base URL, serve it with uvicorn."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = app_factory(base_url)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="linkpay-merchant", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError("embedded server failed to start")
            time.sleep(0.01)
    except BaseException:
        sock.close()
        raise
    return ServedApp(app, base_url, server, thread, sock)


def start_embedded_merchant(settings: MerchantSettings, *, port: int = 0) -> ServedApp:
    from linkpay.merchant.app import create_merchant_app

    return serve_in_thread(
        lambda base_url: create_merchant_app(replace(settings, public_url=base_url)), port=port
    )
