"""Helpers for the spend service tests: bodies that pass every field rule, and
shortcuts that drive a request into a given state (imported by the test modules)."""

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
    return {key: value for key, value in body.items() if value is not None}


def spt_body(**overrides: Any) -> dict[str, Any]:
    body = card_body(merchant_name=None, merchant_url=None)
    body.update(credential_type="shared_payment_token", network_id="profile_test123")
    body.update(overrides)
    return body


def create(agent: Any, **overrides: Any) -> dict[str, Any]:
    response = agent.post("/spend_requests", json=card_body(**overrides))
    assert response.status_code == 200, response.text
    return response.json()


def pending(agent: Any, **overrides: Any) -> dict[str, Any]:
    return create(agent, request_approval=True, **overrides)


def approved(wallet: Any, agent: Any, person: str, **overrides: Any) -> dict[str, Any]:
    request = pending(agent, **overrides)
    wallet.approve(request["id"], person)
    return agent.get(f"/spend_requests/{request['id']}").json()


def stored_status(wallet: Any, spend_request_id: str) -> str:
    from linkpay.wallet.store.models import SpendRequest

    with wallet.session() as session:
        row = session.get(SpendRequest, spend_request_id)
        assert row is not None
        return row.status


def set_columns(wallet: Any, spend_request_id: str, **values: Any) -> None:
    """Move a request's clock-related columns (time travel for window tests)."""
    from sqlalchemy import update

    from linkpay.wallet.store.models import SpendRequest

    with wallet.session() as session:
        session.execute(
            update(SpendRequest).where(SpendRequest.id == spend_request_id).values(**values)
        )


def issue_agent_token(wallet: Any, user_id: str) -> TokenResponse:
    """A real token row from the wallet's token service, without the device flow's
    HTTP round trips (tests/wallet/auth covers that flow; here it is only setup)."""
    from linkpay.wallet.auth.tokens import DEFAULT_AGENT_SCOPE, issue_tokens

    with wallet.session() as session:
        issued = issue_tokens(
            session,
            user_id=user_id,
            client_id="link-cli",
            scope=DEFAULT_AGENT_SCOPE,
            connection_label="pytest (spend tests)",
            authorization_details=None,
            access_ttl=3600,
            refresh_ttl=3600,
        )
    return TokenResponse(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        token_type="Bearer",
        expires_in=3600,
        scope=DEFAULT_AGENT_SCOPE,
    )
