"""A real wallet in a background thread: for tests, `link-cli demo` and benchmarks.

`start_embedded_wallet()` migrates the database (a temporary SQLite file when no URL is
given), binds 127.0.0.1 (port 0 = any free port), serves the real app with uvicorn in a
daemon thread and returns once it accepts requests. The helpers act as the person
(approve a login or a purchase) through the same service functions the web app uses;
the agent side goes over HTTP like any client.

    with start_embedded_wallet() as wallet:
        user_id = wallet.create_user("ada@example.com")
        wallet.add_test_card(user_id)
        token = wallet.agent_login(user_id)
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from linkpay.wallet.settings import Settings

_STARTUP_TIMEOUT_SECONDS = 30.0


class EmbeddedWallet:
    def __init__(
        self,
        *,
        settings: Settings,
        app: Any,
        server: Any,
        thread: threading.Thread,
        temp_dir: Path | None,
        sock: socket.socket | None = None,
    ) -> None:
        self._socket = sock
        self.settings = settings
        self.app = app
        self.sessionmaker = app.state.sessionmaker
        self._server = server
        self._thread = thread
        self._temp_dir = temp_dir
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.settings.public_url

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        self._thread.join(timeout=15)
        if self._socket is not None:
            self._socket.close()
        self.app.state.engine.dispose()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedWallet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- plumbing ----------------------------------------------------------------
    def session(self) -> Any:
        """`with wallet.session() as s:` one committed transaction."""
        from linkpay.wallet.store.db import transaction

        return transaction(self.sessionmaker)

    def http(self, access_token: str | None = None, **kwargs: Any) -> Any:
        """An httpx2 client on the wallet, optionally authenticated as an agent."""
        import httpx2

        headers = dict(kwargs.pop("headers", {}) or {})
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        return httpx2.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    # -- the person ----------------------------------------------------------------
    def create_user(self, email: str, name: str | None = None) -> str:
        from linkpay.wallet import accounts

        with self.session() as s:
            return accounts.create_user(s, email=email, name=name).id

    def add_test_card(self, user_id: str) -> str:
        from linkpay.wallet import accounts

        with self.session() as s:
            return accounts.add_test_card(s, user_id=user_id).id

    def approve_device(self, user_code: str, user_id: str) -> None:
        from linkpay.wallet.auth.device import approve_device_grant

        with self.session() as s:
            approve_device_grant(s, user_id=user_id, user_code=user_code)

    def deny_device(self, user_code: str, user_id: str) -> None:
        from linkpay.wallet.auth.device import deny_device_grant

        with self.session() as s:
            deny_device_grant(s, user_id=user_id, user_code=user_code)

    def approve(self, spend_request_id: str, user_id: str) -> Any:
        """Approve as the person (issues the credential); returns the wire object."""
        from linkpay.wallet.spend import service

        with self.session() as s:
            row = service.approve_spend_request(
                s, user_id=user_id, spend_request_id=spend_request_id, settings=self.settings
            )
            return service.to_wire(s, row, settings=self.settings)

    def deny(self, spend_request_id: str, user_id: str) -> Any:
        from linkpay.wallet.spend import service

        with self.session() as s:
            row = service.deny_spend_request(s, user_id=user_id, spend_request_id=spend_request_id)
            return service.to_wire(s, row, settings=self.settings)

    def create_merchant(self, name: str, url: str | None = None) -> tuple[str, str, str]:
        """A test-network merchant: `(merchant_id, api_key, network_id)`."""
        from linkpay.wallet.network.merchants import create_merchant

        with self.session() as s:
            merchant, api_key = create_merchant(s, name=name, url=url)
            return merchant.id, api_key, merchant.network_id

    # -- the agent -----------------------------------------------------------------
    def agent_login(
        self,
        user_id: str,
        scope: str | None = None,
        *,
        client_id: str = "link-cli",
        connection_label: str = "pytest on localhost",
    ) -> Any:
        """Run the real device flow over HTTP, approving as `user_id`; returns
        `wire.TokenResponse`."""
        from linkpay.wallet.auth.device import DEVICE_CODE_GRANT_TYPE
        from linkpay.wire import DeviceCodeResponse, TokenResponse

        form = {
            "client_id": client_id,
            "connection_label": connection_label,
            "client_hint": client_id,
        }
        if scope:
            form["scope"] = scope
        with self.http() as client:
            started = client.post("/device/code", data=form)
            if started.status_code != 200:
                raise RuntimeError(f"/device/code answered {started.status_code}: {started.text}")
            code = DeviceCodeResponse.model_validate(started.json())
            self.approve_device(code.user_code, user_id)
            answer = client.post(
                "/device/token",
                data={
                    "grant_type": DEVICE_CODE_GRANT_TYPE,
                    "device_code": code.device_code,
                    "client_id": client_id,
                },
            )
            if answer.status_code != 200:
                raise RuntimeError(f"/device/token answered {answer.status_code}: {answer.text}")
            return TokenResponse.model_validate(answer.json())


def start_embedded_wallet(
    *,
    database_url: str | None = None,
    port: int = 0,
    settings_overrides: dict[str, Any] | None = None,
) -> EmbeddedWallet:
    import uvicorn

    from linkpay.wallet.app import create_app
    from linkpay.wallet.store.migrations import upgrade_to_head

    overrides = dict(settings_overrides or {})
    temp_dir: Path | None = None
    if "data_dir" not in overrides:
        temp_dir = Path(tempfile.mkdtemp(prefix="linkpay-wallet-"))
        overrides["data_dir"] = temp_dir
    data_dir = Path(overrides["data_dir"])
    if database_url is None:
        database_url = f"sqlite:///{data_dir / 'wallet.db'}"

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it keep-alive requests stall ~40 ms (Nagle +
    # delayed ACK), as uvicorn only sets it on sockets it binds itself.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        bound_port = sock.getsockname()[1]
        overrides.setdefault("public_url", f"http://127.0.0.1:{bound_port}")
        settings = Settings.from_env(
            database_url=database_url, host="127.0.0.1", port=bound_port, **overrides
        )
        upgrade_to_head(settings.database_url)
        app = create_app(settings)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="linkpay-wallet", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError("embedded wallet failed to start")
            time.sleep(0.01)
    except BaseException:
        sock.close()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    return EmbeddedWallet(
        settings=settings, app=app, server=server, thread=thread, temp_dir=temp_dir, sock=sock
    )
