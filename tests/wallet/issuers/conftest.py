"""Fixtures: the in-repo Stripe and Lithic fakes on loopback ports, and a wallet whose
settings point the official SDKs at them, connected to one provider per module param."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import stamina
from issuers_helpers import Live, add_address, agent_token, connect, make_fakes

from linkpay.serving import serve_in_thread


@pytest.fixture(scope="session", autouse=True)
def _fast_retries() -> Iterator[None]:
    """stamina still retries (3 attempts) but without sleeping."""
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture(scope="module")
def fakes(database_url: str) -> Iterator[dict[str, Any]]:
    """Fresh fakes for each database's wallet: the issuer's cards of one database's run
    must not look like orphans to the next one's reconcile."""
    del database_url  # taken only so the fakes follow the database parametrization
    stripe_fake, lithic_fake = make_fakes()
    with serve_in_thread(lambda _b: stripe_fake.app, name="fake-stripe") as s:
        with serve_in_thread(lambda _b: lithic_fake.app, name="fake-lithic") as lt:
            stripe_fake.base_url, lithic_fake.base_url = s.base_url, lt.base_url
            yield {"stripe": stripe_fake, "lithic": lithic_fake}


@pytest.fixture(scope="module")
def live_wallet(wallet_factory: Any, fakes: dict[str, Any]) -> Any:
    return wallet_factory(
        stripe_api_base=fakes["stripe"].base_url, lithic_base_url=fakes["lithic"].base_url
    )


@pytest.fixture(params=["stripe", "lithic"])
def live(request: pytest.FixtureRequest, live_wallet: Any, fakes: dict[str, Any]) -> Iterator[Live]:
    provider = str(request.param)
    fake = fakes[provider]
    connect(live_wallet, provider, fake)
    person = live_wallet.create_user(f"live-{secrets.token_hex(4)}@example.com", "Ada Lovelace")
    live_wallet.add_test_card(person)
    add_address(live_wallet, person)
    with live_wallet.http(agent_token(live_wallet, person)) as agent:
        yield Live(live_wallet, provider, fake, person, agent)
