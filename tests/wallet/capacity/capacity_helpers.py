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
