"""Fixtures for the test network tests (helpers live in network_helpers.py)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from network_helpers import SHOP_URL, Flow, Merchant


@pytest.fixture
def flow(wallet: Any, person: str, agent_token: Any) -> Flow:
    return Flow(wallet, person, agent_token)


@pytest.fixture
def shop(wallet: Any) -> Merchant:
    return Merchant(*wallet.create_merchant(f"Example Shop {secrets.token_hex(3)}", SHOP_URL))


@pytest.fixture
def other_shop(wallet: Any) -> Merchant:
    return Merchant(*wallet.create_merchant("Other Shop", "https://other.example"))
