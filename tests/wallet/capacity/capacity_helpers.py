"""Helpers for the capacity tests (imported by the test modules)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx2

from linkpay.serving import free_loopback_port
from linkpay.wire import TokenResponse

CONTEXT = (
    "Buying a replacement USB-C charger for the person's laptop: the old one stopped "
    "working yesterday and this is the cheapest 65 W model from a reputable shop."
)


def card_body(**overrides: Any) -> dict[str, Any]:
    """A valid card spend request body; a random tag keeps duplicates apart."""
    body: dict[str, Any] = {
        "amount": 1999,
        "currency": "usd",
        "merchant_name": "Charger Shop",
        "merchant_url": "https://chargers.example",
        "context": f"{CONTEXT} [{secrets.token_hex(4)}]",
        "line_items": [{"name": "65 W USB-C charger", "quantity": 1, "unit_amount": 1999}],
        "totals": [{"type": "total", "amount": 1999}],
    }
    body.update(overrides)
    return body


def issue_agent_token(wallet: Any, user_id: str, scope: str | None = None) -> TokenResponse:
    """A real token row from the wallet's token service (the device flow is covered
    elsewhere; here it is only setup)."""
    from linkpay.wallet.auth.tokens import DEFAULT_AGENT_SCOPE, issue_tokens

    scope = scope or DEFAULT_AGENT_SCOPE
    with wallet.session() as session:
        issued = issue_tokens(
            session,
            user_id=user_id,
            client_id="link-cli",
            scope=scope,
            connection_label="pytest (capacity tests)",
            authorization_details=None,
            access_ttl=3600,
            refresh_ttl=3600,
        )
    return TokenResponse(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        token_type="Bearer",
        expires_in=3600,
        scope=scope,
    )


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def sign_in(client: Any, base_url: str, link: str) -> None:
    """Turn `client` into a signed-in browser on `base_url` with a one-time link."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    answer = client.post(
        link, data={"csrf_token": csrf_from(page.text), "next": "/"}, headers={"Origin": base_url}
    )
    assert answer.status_code == 303, answer.text


def guess_wrong_phrases_on_both(a: Any, b: Any, local: Any, person: str, limit: int) -> None:
    """Sign the person in on both servers and guess a wrong device phrase `limit` times,
    alternating: each server alone sees half the misses, so both answering 429 next
    shows the limiter counts in shared storage."""
    with a.client(follow_redirects=False) as on_a, b.client(follow_redirects=False) as on_b:
        sign_in(on_a, a.base_url, local.signin_link(person, a.base_url))
        sign_in(on_b, b.base_url, local.signin_link(person, b.base_url))
        browsers = (on_a, on_b)
        for attempt in range(limit):
            miss = browsers[attempt % 2].get("/device", params={"code": "wrong-wrong-wrong"})
            assert miss.status_code == 404, (attempt, miss.status_code)
        assert on_a.get("/device", params={"code": "wrong-wrong-wrong"}).status_code == 429
        assert on_b.get("/device", params={"code": "wrong-wrong-wrong"}).status_code == 429


def approve_on_page(client: Any, base_url: str, spend_request_id: str) -> None:
    """Approve through the approval page, binding to the hash it shows."""
    import re

    page = client.get(f"/approve/{spend_request_id}")
    assert page.status_code == 200, page.text
    shown = re.search(r'name="approval_hash" value="([0-9a-f]+)"', page.text)
    assert shown, "no approval_hash on the page"
    answer = client.post(
        f"/approve/{spend_request_id}",
        headers={"Origin": base_url},
        data={
            "csrf_token": csrf_from(page.text),
            "decision": "approve",
            "approval_hash": shown.group(1),
        },
    )
    assert answer.status_code == 303, answer.text


class Served:
    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    def client(self, **kwargs: Any) -> httpx2.Client:
        return httpx2.Client(base_url=self.base_url, timeout=40, **kwargs)


def serve_process(
    data_dir: Path, database_url: str, *extra: str, env: dict[str, str] | None = None
) -> Served:
    """`link-wallet serve` in a subprocess on a free port, once it accepts requests."""
    port = free_loopback_port()
    env = {
        **os.environ,
        "LINKPAY_DATA_DIR": str(data_dir),
        "LINKPAY_DATABASE_URL": database_url,
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "linkpay.wallet.admin", "serve", "--port", str(port), *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "Application startup complete" in line:
            break
    else:
        raise AssertionError(f"serve exited with {process.wait()}")
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep draining
    return Served(process, f"http://127.0.0.1:{port}")


class LocalWallet:
    """What the tests do directly in the shared database (setup only)."""

    def __init__(self, settings: Any, factory: Any) -> None:
        self.settings = settings
        self.sessionmaker = factory

    def session(self) -> Any:
        from linkpay.wallet.store.db import transaction

        return transaction(self.sessionmaker)

    def person(self, email: str) -> str:
        from linkpay.wallet import accounts

        with self.session() as db:
            user = accounts.create_user(db, email=email, name="Ada Lovelace")
            accounts.add_test_card(db, user_id=user.id)
            return user.id

    def signin_link(self, user_id: str, base_url: str) -> str:
        from linkpay.wallet.web.signin import create_signin_link

        with self.session() as db:
            link = create_signin_link(db, user_id, self.settings)
        return base_url + link[link.index("/signin/") :]
