"""Helpers for the capacity tests (imported by the test modules)."""

from __future__ import annotations

import secrets
from typing import Any

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
