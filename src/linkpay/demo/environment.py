"""Where the demo runs: the configured wallet, or an embedded one started for the demo.

Embedded (no `LINK_API_BASE_URL`, or it does not answer): a wallet on a temporary SQLite
database and a free loopback port, a test person ("Test Person", with the test card
4242 4242 4242 4242 as default payment method), the demo merchant registered on the
wallet's test network and served on its own free loopback port, and an agent logged in
through the real device flow (the test person approves the phrase). Everything lives in
a temporary directory removed at the end; the user's own token file is never touched.

Configured (`LINK_API_BASE_URL` answers): the agent uses the user's own login (token
file or `LINK_ACCESS_TOKEN`), approvals happen in the person's browser, and the demo
merchant needs to be registered at that wallet once (`link-wallet merchant create
--url http://127.0.0.1:8780`), its key given as `LINKPAY_MERCHANT_API_KEY` and
`LINKPAY_MERCHANT_NETWORK_ID` (and `LINKPAY_MERCHANT_PUBLIC_URL` if not the default).
Without that key the demo says so and falls back to an embedded wallet.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkpay.demo.servers import free_loopback_port, wallet_reachable
from linkpay.serving import ServedApp, serve_in_thread

TEST_PERSON_EMAIL = "test.person@linkpay.test"
TEST_PERSON_NAME = "Test Person"
DEMO_MERCHANT_NAME = "Linkpay Demo Shop"
DEMO_CLIENT_NAME = "link-cli demo"


@dataclass
class DemoEnvironment:
    mode: str  # "embedded" | "configured"
    wallet_url: str
    merchant_url: str
    link: Any  # linkpay.client.Link, logged in as the agent
    approve: Callable[[str], None] | None = None  # approve as the test person (embedded)
    deny: Callable[[str], None] | None = None
    network_id: str | None = None
    # A link that signs the browser in as the test person and opens the approval page
    # (embedded only: nobody has a wallet session there yet).
    browser_approval_link: Callable[[str], str] | None = None

    @property
    def can_approve_here(self) -> bool:
        return self.approve is not None

    @property
    def shop_url(self) -> str:
        return f"{self.merchant_url}/shop"

    @property
    def paid_api_url(self) -> str:
        return f"{self.merchant_url}/api/fortune"

    def summary(self) -> dict[str, Any]:
        return {"mode": self.mode, "wallet_url": self.wallet_url, "merchant_url": self.merchant_url}


class DemoSetupError(Exception):
    """The demo could not get a wallet and a merchant ready; `code` is the CLI code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def configured_wallet_url() -> str | None:
    url = os.environ.get("LINK_API_BASE_URL", "").strip()
    return url.rstrip("/") or None


@contextlib.contextmanager
def quiet_server_logs(enabled: bool = True) -> Iterator[None]:
    """Keep the in-process servers' logs (uvicorn, linkpay) off a person's screen while
    the demo draws on it; `--verbose` or a non-interactive run keeps them."""
    if not enabled:
        yield
        return
    import logging

    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "linkpay")
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def open_environment(
    *, say: Callable[[str], None] = lambda text: None, verbose: Any = False
) -> Iterator[DemoEnvironment]:
    """Yield a ready environment; stop whatever was started for it on exit."""
    url = configured_wallet_url()
    if url and wallet_reachable(url):
        if os.environ.get("LINKPAY_MERCHANT_API_KEY"):
            with _configured(url, verbose=verbose) as env:
                yield env
            return
        say(
            f"The wallet at {url} answers, but the demo merchant is not registered there "
            "(set LINKPAY_MERCHANT_API_KEY and LINKPAY_MERCHANT_NETWORK_ID from "
            "`link-wallet merchant create`). Using an embedded test wallet instead."
        )
    elif url:
        say(f"No wallet answers at {url}; starting an embedded test wallet instead.")
    with _embedded(verbose=verbose) as env:
        yield env


@contextlib.contextmanager
def _embedded(*, verbose: Any = False) -> Iterator[DemoEnvironment]:
    from pydantic import SecretStr

    from linkpay.client import Link
    from linkpay.merchant.app import create_merchant_app
    from linkpay.merchant.settings import MerchantSettings
    from linkpay.wallet.embedded import start_embedded_wallet

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="linkpay-demo-")))
        # Its job thread (notifications, maintenance) waits 10 s: `demo --yes` is over
        # by then, the test person has no notification channel, and nothing the demo
        # shows waits on a job (the jobs were ~60 ms of a ~1.2 s run's CPU).
        wallet = start_embedded_wallet(settings_overrides={"job_hold_first_pass_seconds": 10})
        stack.callback(wallet.stop)
        person = wallet.create_user(TEST_PERSON_EMAIL, TEST_PERSON_NAME)
        wallet.add_test_card(person)

        merchant_port = free_loopback_port()
        merchant_url = f"http://127.0.0.1:{merchant_port}"
        _, api_key, network_id = wallet.create_merchant(DEMO_MERCHANT_NAME, url=merchant_url)
        settings = MerchantSettings(
            wallet_url=wallet.base_url,
            api_key=SecretStr(api_key),
            network_id=network_id,
            public_url=merchant_url,
            name=DEMO_MERCHANT_NAME,
        )
        merchant = stack.enter_context(
            _serve_merchant(create_merchant_app(settings), merchant_port)
        )
        # Runs first on exit: both servers shut down at once, then each is waited for.
        stack.callback(wallet.begin_stop)
        stack.callback(merchant.begin_stop)

        link = Link(
            api_base_url=wallet.base_url,
            auth_base_url=wallet.base_url,
            auth_file=workdir / "auth.json",
            verbose=verbose,
        )
        stack.callback(link.close)
        # The SDK's device login, the phrase approved as the test person; the tokens stay
        # in the demo's own temporary auth file.
        started = link.device.start(client_name=DEMO_CLIENT_NAME)
        wallet.approve_device(started.user_code, person)
        tokens = link.device.poll(started.device_code, interval=0.2, timeout=30)
        link.save_login(tokens, client_name=DEMO_CLIENT_NAME)

        yield DemoEnvironment(
            mode="embedded",
            wallet_url=wallet.base_url,
            merchant_url=merchant_url,
            link=link,
            approve=lambda spend_request_id: wallet.approve(spend_request_id, person, wire=False),
            deny=lambda spend_request_id: wallet.deny(spend_request_id, person),
            network_id=network_id,
            browser_approval_link=lambda spend_request_id: wallet.signin_link(
                person, f"/approve/{spend_request_id}"
            ),
        )


def _serve_merchant(app: Any, port: int) -> ServedApp:
    """The demo merchant on 127.0.0.1:`port` (its settings already carry that URL)."""
    return serve_in_thread(lambda _base_url: app, port=port, name="demo-merchant", lifespan="on")


@contextlib.contextmanager
def _configured(url: str, *, verbose: Any = False) -> Iterator[DemoEnvironment]:
    from linkpay.client import Link
    from linkpay.merchant.app import create_merchant_app
    from linkpay.merchant.settings import MerchantSettings

    link = Link(verbose=verbose)
    if link.tokens is None:
        link.close()
        raise DemoSetupError(
            "NOT_AUTHENTICATED",
            f"The wallet at {url} is configured, but this agent is not logged in. "
            "Run `link-cli auth login` (or `link-cli onboard`) first.",
        )
    settings = MerchantSettings.from_env(wallet_url=url, name=DEMO_MERCHANT_NAME)
    port = urlsplit(settings.public_url).port or 80
    try:
        server = _serve_merchant(create_merchant_app(settings), port)
    except (OSError, RuntimeError) as exc:
        link.close()
        raise DemoSetupError(
            "DEMO_SETUP_FAILED", f"The demo merchant could not listen on port {port}: {exc}"
        ) from None
    try:
        yield DemoEnvironment(
            mode="configured",
            wallet_url=url,
            merchant_url=settings.public_url.rstrip("/"),
            link=link,
            network_id=settings.network_id or None,
        )
    finally:
        server.stop()
        link.close()
