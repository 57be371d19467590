"""Fixtures for the spend service tests. Every test gets its own person and agent
login (function-scoped `person` and `agent_token` from tests/conftest.py), on a
module-scoped real wallet per database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from spend_helpers import issue_agent_token

from linkpay.wire import TokenResponse


@pytest.fixture
def agent_token(wallet: Any, person: str) -> TokenResponse:
    """Overrides tests/conftest.py's device-flow login: same token, less setup time."""
    return issue_agent_token(wallet, person)


@pytest.fixture
def agent(wallet: Any, agent_token: Any) -> Iterator[Any]:
    """httpx2 client authenticated as the person's agent."""
    with wallet.http(agent_token.access_token) as client:
        yield client


@pytest.fixture
def other_agent(wallet: Any) -> Iterator[Any]:
    """An agent of a *different* person."""
    user_id = wallet.create_user(f"other-{secrets.token_hex(4)}@example.com", "Grace Hopper")
    wallet.add_test_card(user_id)
    token = issue_agent_token(wallet, user_id)
    with wallet.http(token.access_token) as client:
        client.user_id = user_id  # type: ignore[attr-defined]
        yield client
