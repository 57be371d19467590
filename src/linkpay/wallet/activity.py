"""The person's activity, read from the audit log: each entry in plain words, naming
who did it (you, which agent, which shop, the shell, the wallet) and what it was about.

Used by the web app's activity page and `link-wallet activity`. Merchant and agent
text stays raw here; the web layer escapes it and the CLI renderer sanitizes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.connections import agent_summaries
from linkpay.wallet.store.models import Merchant

# What happened, by event type; `{amount}` and `{merchant}` come from the entry's data.
WORDS = {
    "device.approved": "Connected an agent",
    "device.denied": "Refused an agent's connection",
    "agent.revoked": "Disconnected an agent",
    "spend_request.created": "Asked to buy {amount} at {merchant}",
    "spend_request.approval_requested": "Asked you to approve {amount} at {merchant}",
    "spend_request.approved": "Approved {amount} at {merchant}",
    "spend_request.denied": "Denied {amount} at {merchant}",
    "spend_request.canceled": "Canceled {amount} at {merchant}",
    "spend_request.expired": "Expired without a decision: {amount} at {merchant}",
    "spend_request.succeeded": "Paid {amount} at {merchant}",
    "spend_request.failed": "Payment failed: {amount} at {merchant}",
    "spend_request.requires_action": "Needs action: {amount} at {merchant}",
    "credential.revealed": "Received the one-time card details",
    "charge.succeeded": "Charged {amount}",
    "charge.declined": "Declined a charge of {amount}",
    "issuer.decision": "Card issuer decided",
    "policy.decision": "Your rules decided",
    "limit.changed": "Changed the per-purchase limit to {amount}",
    "rule.changed": "Changed a spending rule",
    "spending.paused": "Stopped all spending",
    "spending.resumed": "Resumed spending",
    "signin.succeeded": "Signed in",
    "signin.link_created": "Created a sign-in link",
    "payment_method.added": "Added a card",
    "payment_method.removed": "Removed a card",
    "payment_method.default_set": "Made a card the default",
    "shipping_address.added": "Added a shipping address",
    "shipping_address.updated": "Changed a shipping address",
    "shipping_address.removed": "Removed a shipping address",
    "shipping_address.default_set": "Made a shipping address the default",
    "profile.updated": "Updated the profile",
}


@dataclass(frozen=True)
class ActivityItem:
    seq: int
    at: datetime
    type: str
    text: str
    who: str  # "You", the agent's label, the shop's name, "The shell", "The wallet"
    who_kind: str  # person | agent | merchant | operator | system
    subject: str
    spend_request_id: str | None
    # denied-by-you and stopped-by-pause and the rest, as a short tag for styling
    tone: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "type": self.type,
            "what": self.text,
            "who": self.who,
            "subject": self.subject,
            "spend_request": self.spend_request_id,
        }


def money(amount: Any, currency: Any) -> str:
    if not isinstance(amount, int):
        return "an amount"
    code = str(currency or "usd").upper()
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(code)
    figure = f"{amount / 100:,.2f}"
    return f"{symbol}{figure} {code}" if symbol else f"{figure} {code}"  # like the pages


def _tone(kind: str, data: dict[str, Any]) -> str:
    if kind == "spend_request.denied":
        return "stopped" if data.get("note") == "spending paused" else "denied"
    if kind in ("spend_request.canceled", "spend_request.expired", "agent.revoked"):
        return "stopped"
    if kind in ("spend_request.failed", "charge.declined", "device.denied"):
        return "failed"
    if kind in ("spend_request.succeeded", "charge.succeeded", "spend_request.approved"):
        return "good"
    if kind == "spend_request.approval_requested":
        return "waiting"
    return "info"


def _text(kind: str, data: dict[str, Any]) -> str:
    words = WORDS.get(kind, kind)
    merchant = data.get("merchant_name") or "a merchant"
    text = words.format(amount=money(data.get("amount"), data.get("currency")), merchant=merchant)
    if kind == "spend_request.denied" and data.get("note") == "spending paused":
        text = text.replace("Denied", "Stopped (everything paused):", 1)
    if kind == "charge.declined" and data.get("decline_code"):
        text = f"{text} ({data['decline_code']})"
    if kind == "policy.decision" and data.get("reason"):
        text = f"{text}: {data['reason']}"
    if kind in ("device.approved", "device.denied", "agent.revoked"):
        label = data.get("connection_label") or data.get("client_id")
        if label:
            text = f"{text}: {label}"
    return text


def activity_items(
    db: Session, user_id: str, *, limit: int = 100, before_seq: int | None = None
) -> list[ActivityItem]:
    """The person's newest entries first, in words."""
    entries = audit.entries_for_user(db, user_id, limit=limit, before_seq=before_seq)
    families = [a.split(":", 1)[1] for a in (e["actor"] for e in entries) if a.startswith("agent:")]
    merchants = [
        a.split(":", 1)[1] for a in (e["actor"] for e in entries) if a.startswith("merchant:")
    ]
    agents = agent_summaries(db, user_id, families) if families else {}
    names = (
        dict(db.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(merchants))).all())
        if merchants
        else {}
    )
    items = []
    for entry in entries:
        data = entry["data"] if isinstance(entry["data"], dict) else {}
        kind_of_actor, _, actor_id = entry["actor"].partition(":")
        if kind_of_actor == "person":
            who = "You"
        elif kind_of_actor == "agent":
            agent = agents.get(actor_id)
            who = agent.label if agent else "An agent"
        elif kind_of_actor == "merchant":
            who = names.get(actor_id) or data.get("merchant_name") or "A merchant"
        elif kind_of_actor == "operator":
            who = "The shell (link-wallet)"
        elif kind_of_actor == "policy":
            who = "Your rules"
        else:
            who = "The wallet"
        subject = entry["subject"]
        spend_request_id = (
            subject if subject.startswith("lsrq_") else data.get("spend_request") or None
        )
        items.append(
            ActivityItem(
                seq=entry["seq"],
                at=_parse_time(entry["at"]),
                type=entry["type"],
                text=_text(entry["type"], data),
                who=who,
                who_kind=kind_of_actor
                if kind_of_actor in ("person", "agent", "merchant", "operator")
                else "system",
                subject=subject,
                spend_request_id=spend_request_id,
                tone=_tone(entry["type"], data),
            )
        )
    return items


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
