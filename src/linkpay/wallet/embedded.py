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
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from linkpay.serving import ServedApp, serve_in_thread
from linkpay.wallet.settings import Settings


class EmbeddedWallet:
    def __init__(self, *, settings: Settings, served: ServedApp, temp_dir: Path | None) -> None:
        self.settings = settings
        self.app = served.app
        self.sessionmaker = self.app.state.sessionmaker
        self._served = served
        self._temp_dir = temp_dir
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.settings.public_url

    @property
    def listen_url(self) -> str:
        """Where it really listens (loopback), even when `public_url` says otherwise."""
        return f"http://127.0.0.1:{self._served.port}"

    def begin_stop(self) -> None:
        """Start shutting the server down; `stop()` waits for it (see ServedApp)."""
        if not self._stopped:
            self._served.begin_stop()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._served.stop()
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

    @property
    def _phrase_limiter(self) -> Any:
        """The app's own guess budget: approving here counts like the person's page."""
        return self.app.state.limiters.device_phrase

    def approve_device(self, user_code: str, user_id: str) -> None:
        from linkpay.wallet.auth.device import approve_device_grant

        with self.session() as s:
            approve_device_grant(
                s, user_id=user_id, user_code=user_code, limiter=self._phrase_limiter
            )

    def deny_device(self, user_code: str, user_id: str) -> None:
        from linkpay.wallet.auth.device import deny_device_grant

        with self.session() as s:
            deny_device_grant(s, user_id=user_id, user_code=user_code, limiter=self._phrase_limiter)

    def approve(self, spend_request_id: str, user_id: str, *, wire: bool = True) -> Any:
        """Approve as the person (issues the credential); returns the wire object, or
        None with `wire=False` (the demo reads the request as the agent does)."""
        from linkpay.wallet.spend import service

        with self.session() as s:
            row = service.approve_spend_request(
                s, user_id=user_id, spend_request_id=spend_request_id, settings=self.settings
            )
            return service.to_wire(s, row, settings=self.settings) if wire else None

    def deny(self, spend_request_id: str, user_id: str) -> Any:
        from linkpay.wallet.spend import service

        with self.session() as s:
            row = service.deny_spend_request(s, user_id=user_id, spend_request_id=spend_request_id)
            return service.to_wire(s, row, settings=self.settings)

    def signin_link(self, user_id: str, next_path: str) -> str:
        """A one-use, short-lived sign-in link for the person that lands on `next_path`."""
        from linkpay.wallet.web.signin import create_signin_link

        with self.session() as s:
            return str(create_signin_link(s, user_id, self.settings, next_path=next_path))

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

    settings: Settings | None = None

    def build(base_url: str) -> Any:
        nonlocal settings
        overrides.setdefault("public_url", base_url)
        settings = Settings.from_env(
            database_url=database_url,
            host="127.0.0.1",
            port=urlsplit(base_url).port,
            **overrides,
        )
        upgrade_to_head(settings.database_url)
        return create_app(settings)

    try:
        served = serve_in_thread(
            build, port=port, name="linkpay-wallet", lifespan="on", timeout_graceful_shutdown=5
        )
    except BaseException:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    assert settings is not None
    return EmbeddedWallet(settings=settings, served=served, temp_dir=temp_dir)
