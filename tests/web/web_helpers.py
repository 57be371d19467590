"""Helpers for the web app tests: sign a person in over plain HTTP, create spend
requests as their agent, pull CSRF tokens out of pages."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
CONTEXT = (
    "Buying a replacement phone charger for the person: their old one broke this morning "
    "and they asked me to order the same model from the usual shop before Friday."
)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def signin_link(wallet: Any, user_id: str, **kwargs: Any) -> str:
    from linkpay.wallet.web.signin import create_signin_link

    with wallet.session() as s:
        return create_signin_link(s, user_id, wallet.settings, **kwargs)


def signed_in_client(wallet: Any, user_id: str) -> Any:
    """An httpx2 client holding a web session cookie (signed in with an owner link)."""
    client = wallet.http(follow_redirects=False)
    link = signin_link(wallet, user_id)
    page = client.get(link)
    assert page.status_code == 200, page.text
    answer = client.post(
        link,
        data={"csrf_token": csrf_from(page.text), "next": "/"},
        headers={"Origin": wallet.base_url},
    )
    assert answer.status_code == 303, answer.text
    return client


def spend_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": 2599,
        "currency": "usd",
        "merchant_name": "Volt Supply",
        "merchant_url": "https://volt-supply.example/charger",
        "context": f"{CONTEXT} [{secrets.token_hex(4)}]",
        "line_items": [
            {"name": "USB-C charger 65W", "quantity": 1, "unit_amount": 2199},
            {"name": "Braided cable", "quantity": 1, "unit_amount": 400},
        ],
        "totals": [{"type": "subtotal", "amount": 2599}, {"type": "total", "amount": 2599}],
        "test": True,
        "request_approval": True,
    }
    body.update(overrides)
    return body


def create_spend_request(wallet: Any, access_token: str, **overrides: Any) -> str:
    with wallet.http(access_token) as agent:
        created = agent.post("/spend_requests", json=spend_body(**overrides))
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def force_expiry(wallet: Any, spend_request_id: str) -> None:
    """Move the decision deadline into the past (as if ten minutes went by)."""
    from linkpay.wallet.store.models import SpendRequest

    with wallet.session() as s:
        row = s.get(SpendRequest, spend_request_id)
        row.approval_expires_at = datetime.now(UTC) - timedelta(seconds=5)
