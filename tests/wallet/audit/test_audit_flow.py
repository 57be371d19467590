"""A full purchase through the real wallet (HTTP, device login, approval, reveal, test
network charge, disconnect) leaves the expected entries in the audit log, in order, a
verifiable chain, and one structured JSON log line per event without card data."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from linkpay.wallet import audit
from linkpay.wallet.auth.tokens import revoke_family
from linkpay.wallet.log_format import JsonFormatter
from linkpay.wallet.store.models import SpendRequest

CONTEXT = (
    "Buying one box of printer paper for the home office, as the person asked this "
    "morning; the merchant is the usual shop and the price was checked."
)


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_full_flow_event_sequence(wallet: Any) -> None:
    handler = Captured()
    events_logger = logging.getLogger("linkpay.events")
    events_logger.addHandler(handler)
    events_logger.setLevel(logging.INFO)
    try:
        person = wallet.create_user(f"audit-{secrets.token_hex(4)}@example.com", "Ada")
        wallet.add_test_card(person)
        token = wallet.agent_login(person, connection_label="Claude Code on vm")
        merchant_id, api_key, _network = wallet.create_merchant("Paper Shop", "https://p.example")
        with wallet.http(token.access_token) as client:
            created = client.post(
                "/spend_requests",
                json={
                    "amount": 2500,
                    "currency": "usd",
                    "context": CONTEXT,
                    "merchant_name": "Paper Shop",
                    "merchant_url": "https://p.example/checkout",
                    "request_approval": True,
                },
            )
            assert created.status_code in (200, 201), created.text
            spend_request_id = created.json()["id"]
            wallet.approve(spend_request_id, person)
            card = client.get(
                f"/spend_requests/{spend_request_id}", params={"include": "card"}
            ).json()["card"]
        with wallet.http() as network:
            charged = network.post(
                "/v1/test_network/card_charges",
                json={
                    "number": card["number"],
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "cvc": card["cvc"],
                    "amount": 2500,
                    "currency": "usd",
                },
                headers={"Authorization": f"Bearer {api_key}"},
            )
        assert charged.status_code == 200, charged.text
        with wallet.session() as db:
            row = db.get(SpendRequest, spend_request_id)
            assert row is not None and row.token_family_id
            family, approval_hash = row.token_family_id, row.approval_hash
            revoke_family(db, user_id=person, family_id=family)
    finally:
        events_logger.removeHandler(handler)

    with wallet.session() as db:
        entries = list(reversed(audit.entries_for_user(db, person)))
        result = audit.verify(db)
    assert result.ok, result
    assert [e["type"] for e in entries] == [
        "payment_method.added",
        "device.approved",
        "spend_request.created",
        "spend_request.approval_requested",
        "spend_request.approved",
        "credential.revealed",
        "issuer.decision",  # the test network asks the issuer to authorize (wallet/decide)
        "spend_request.succeeded",
        "charge.succeeded",
        "agent.revoked",
    ]
    by_type = {e["type"]: e for e in entries}
    assert by_type["spend_request.approved"]["actor"] == f"person:{person}"
    assert by_type["spend_request.approved"]["data"]["approval_hash"] == approval_hash
    assert by_type["spend_request.created"]["actor"] == f"agent:{family}"
    assert by_type["credential.revealed"]["actor"] == f"agent:{family}"
    assert by_type["charge.succeeded"]["actor"] == f"merchant:{merchant_id}"
    assert by_type["charge.succeeded"]["data"]["amount"] == 2500
    assert by_type["device.approved"]["data"]["connection_label"] == "Claude Code on vm"
    assert by_type["agent.revoked"]["subject"] == family

    mine = [json.loads(line) for line in handler.lines if person in line]
    assert [line["event"] for line in mine] == [e["type"] for e in entries]
    assert all(line["logger"] == "linkpay.events" and line["hash"] for line in mine)
    joined = "\n".join(handler.lines)
    assert card["number"] not in joined and f'"{card["cvc"]}"' not in joined
