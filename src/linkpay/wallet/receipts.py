"""A receipt per purchase, something the person could show anyone: what the agent
asked (its own words), what was approved (and the approval hash that pins it), what
was charged, by whom and when, and the audit-log entries (seq and hash) behind each
line, so the receipt can be checked against `link-wallet audit verify`.

Built from the spend request, its charges and the audit log. The web app renders it
as a printable page and offers the same data as a JSON download; `link-wallet receipt`
prints it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.connections import agent_summary
from linkpay.wallet.spend.decisions import load_for_user
from linkpay.wallet.store.models import Charge, Credential, Merchant, PaymentMethod, User

DECISIONS = {
    "spend_request.approved": "approved",
    "spend_request.denied": "denied",
}


def who(
    actor: str,
    *,
    person: User | None,
    agent_label: str | None,
    merchants: dict[str, str] | None = None,
) -> str:
    """An audit actor in words, for a receipt."""
    kind, _, ident = actor.partition(":")
    if kind == "person":
        name = person.name if person is not None and person.id == ident else None
        email = person.email if person is not None and person.id == ident else ident
        return f"{name} ({email})" if name else str(email)
    if kind == "agent":
        return agent_label or "the agent"
    if kind == "operator":
        return "link-wallet, on the wallet's own machine"
    if kind == "policy":
        return "the person's rules (decided automatically)"
    if kind == "merchant":
        return (merchants or {}).get(ident) or "the merchant"
    return "the wallet"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def build_receipt(db: Session, user_id: str, spend_request_id: str) -> dict[str, Any]:
    """The receipt of one of the person's purchases (404 for anyone else's)."""
    row = load_for_user(db, user_id, spend_request_id)
    person = db.get(User, user_id)
    agent = agent_summary(db, user_id, row.token_family_id)
    agent_label = agent.label if agent else None
    entries = audit.entries_for_subject(db, row.id)
    charges = list(
        db.scalars(
            select(Charge).where(Charge.spend_request_id == row.id).order_by(Charge.created_at)
        )
    )
    for charge in charges:
        entries += audit.entries_for_subject(db, charge.id)
    entries.sort(key=lambda e: e["seq"])
    merchant_names = dict(
        db.execute(
            select(Merchant.id, Merchant.name).where(
                Merchant.id.in_([c.merchant_id for c in charges])
            )
        ).all()
    )
    credential = db.scalars(select(Credential).where(Credential.spend_request_id == row.id)).first()
    method = db.get(PaymentMethod, row.payment_method_id) if row.payment_method_id else None
    decision = next((e for e in entries if e["type"] in DECISIONS), None)
    asked = next((e for e in entries if e["type"] == "spend_request.created"), None)
    return {
        "receipt_for": row.id,
        "status": row.status,
        "test": row.test,
        "merchant": {
            "name": row.merchant_name,
            "url": row.merchant_url,
            "network_id": row.network_id,
        },
        "amount": row.amount,
        "currency": row.currency,
        "line_items": row.line_items or [],
        "totals": row.totals or [],
        "asked": {
            "by": agent_label or "an agent",
            "agent": agent.as_dict() if agent else None,
            "at": _iso(row.created_at),
            "context": row.context,
            "audit_seq": asked["seq"] if asked else None,
        },
        "decision": (
            {
                "outcome": DECISIONS[decision["type"]],
                "by": who(decision["actor"], person=person, agent_label=agent_label),
                "at": decision["at"],
                "approval_hash": decision["data"].get("approval_hash"),
                "note": decision["data"].get("note"),
                "audit_seq": decision["seq"],
                "audit_hash": decision["hash"],
            }
            if decision
            else None
        ),
        "approval_hash": row.approval_hash,
        "paid_with": (
            {
                "funding": f"{(method.brand or 'card').capitalize()} ending in {method.last4}"
                if method
                else None,
                "credential": credential.kind if credential else None,
                "credential_last4": credential.last4 if credential else None,
                "issuer": credential.issuer if credential else None,
            }
        ),
        "charges": [
            {
                "id": c.id,
                "status": c.status,
                "amount": c.amount,
                "currency": c.currency,
                "by": merchant_names.get(c.merchant_id) or "a merchant",
                "at": _iso(c.created_at),
                "decline_code": c.decline_code,
            }
            for c in charges
        ],
        "timeline": [
            {
                "seq": e["seq"],
                "at": e["at"],
                "type": e["type"],
                "by": who(
                    e["actor"], person=person, agent_label=agent_label, merchants=merchant_names
                ),
                "hash": e["hash"],
            }
            for e in entries
        ],
    }
