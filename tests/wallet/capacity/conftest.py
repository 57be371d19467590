"""Fixtures for the capacity and hardening tests: a person and an authenticated agent
client on the module's real wallet (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from capacity_helpers import card_body, issue_agent_token


@pytest.fixture
def agent(wallet: Any, person: str) -> Iterator[Any]:
    """httpx2 client authenticated as the person's agent."""
    token = issue_agent_token(wallet, person)
    with wallet.http(token.access_token) as client:
        yield client


@pytest.fixture
def other_agent_id(wallet: Any) -> str:
    """A spend request of a different person."""
    import secrets

    user_id = wallet.create_user(f"other-{secrets.token_hex(4)}@example.com", "Grace Hopper")
    wallet.add_test_card(user_id)
    token = issue_agent_token(wallet, user_id)
    with wallet.http(token.access_token) as client:
        created = client.post("/spend_requests", json=card_body())
        assert created.status_code == 200, created.text
        return str(created.json()["id"])
