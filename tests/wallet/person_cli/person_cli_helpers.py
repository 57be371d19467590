"""Helpers for the `link-wallet` person-command tests: run the real entry point in
process on the test wallet's database, parse JSON output, assert error shapes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

Runner = Callable[..., tuple[int, str, str]]


def email() -> str:
    return f"cli-{secrets.token_hex(4)}@example.com"


def ok(run: Runner, *argv: str) -> Any:
    """Run with --format json; assert exit 0; the parsed result."""
    code, out, err = run(*argv, "--format", "json")
    assert code == 0, (argv, out, err)
    return json.loads(out)


def fails(run: Runner, *argv: str, code: str | None = None) -> dict[str, Any]:
    """Run with --format json; assert exit 1 with exactly {code, message}."""
    exit_code, out, err = run(*argv, "--format", "json")
    assert exit_code == 1, (argv, out, err)
    assert "Traceback" not in out + err
    body = json.loads(out)
    assert set(body) == {"code", "message"} and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return dict(body)


CONTEXT = (
    "Buying the paperback of 'Designing Data-Intensive Applications' the person asked "
    "for this morning, delivered to their default address."
)


def paid_purchase(wallet: Any, user_id: str, label: str = "Claude Code on vm") -> str:
    """A purchase asked by an agent called `label`, approved, revealed and charged on
    the test network; returns its id."""
    token = wallet.agent_login(user_id, connection_label=label)
    _merchant, api_key, _network = wallet.create_merchant("Acme Books", "https://acme.example")
    with wallet.http(token.access_token) as client:
        created = client.post(
            "/spend_requests",
            json={
                "amount": 2599,
                "currency": "usd",
                "merchant_name": "Acme Books",
                "merchant_url": "https://acme.example/checkout",
                "context": CONTEXT,
                "line_items": [{"name": "DDIA paperback", "quantity": 1, "unit_amount": 2599}],
                "request_approval": True,
            },
        )
        assert created.status_code in (200, 201), created.text
        spend_request_id = str(created.json()["id"])
        wallet.approve(spend_request_id, user_id)
        card = client.get(f"/spend_requests/{spend_request_id}", params={"include": "card"}).json()[
            "card"
        ]
    with wallet.http() as network:
        charged = network.post(
            "/v1/test_network/card_charges",
            json={
                "number": card["number"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "cvc": card["cvc"],
                "amount": 2599,
                "currency": "usd",
            },
            headers={"Authorization": f"Bearer {api_key}"},
        )
    assert charged.status_code == 200, charged.text
    return spend_request_id
