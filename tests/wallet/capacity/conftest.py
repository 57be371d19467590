"""Fixtures for the capacity and hardening tests: a person and an authenticated agent
client on the module's real wallet (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from capacity_helpers import issue_agent_token


@pytest.fixture
def agent(wallet: Any, person: str) -> Iterator[Any]:
    """httpx2 client authenticated as the person's agent."""
    token = issue_agent_token(wallet, person)
    with wallet.http(token.access_token) as client:
        yield client
