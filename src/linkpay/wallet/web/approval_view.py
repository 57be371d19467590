"""What the approval page shows, built from the stored request (never from anything the
browser sends): the payee, the amount in figures and words, the line items and totals
with a check that they add up, the credential, the funding source, the deadline, and the
agent's context as untrusted quoted text. Plus the approval hash the page's form posts
back, so the person can only approve exactly what they saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.money import format_money, money_in_words
from linkpay.text import clean_text
from linkpay.wallet.connections import AgentSummary, agent_summary
from linkpay.wallet.spend.decisions import PAUSED_NOTE
from linkpay.wallet.store.models import (
    Merchant,
    PaymentMethod,
    SpendRequest,
    SpendRequestEvent,
)
from linkpay.wallet.store.policy_models import SpendDecision
from linkpay.wallet.web.present import domain_of, minutes_left

STATUS_TEXT = {
    "created": "Not yet sent for approval: the agent has not asked you to decide yet.",
    "pending_approval": "Waiting for your decision.",
    "approved": "You approved this purchase.",
    "denied": "You denied this purchase. Nothing can be charged.",
    "expired": "This request expired before a decision. Nothing can be charged.",
    "succeeded": "Paid: the one-time credential was used.",
    "failed": "The payment failed.",
    "canceled": "Canceled. Any credential issued for it no longer works.",
    "requires_action": "The payment needs an extra step.",
}

# When the person did not decide themselves, the page says who or what did.
PAUSED_TEXT = {
    "denied": "Denied when you stopped all spending. Nothing can be charged.",
    "canceled": "Canceled when you stopped all spending. Its credential no longer works.",
}


def status_text(session: Session, row: SpendRequest, status: str) -> str:
    """The sentence under the status: "You denied…" only when the person denied it; a
    rule's decision or "stop everything" says so instead."""
    if status in PAUSED_TEXT:
        note = session.scalars(
            select(SpendRequestEvent.note)
            .where(
                SpendRequestEvent.spend_request_id == row.id,
                SpendRequestEvent.to_status == status,
            )
            .order_by(SpendRequestEvent.id.desc())
            .limit(1)
        ).first()
        if note == PAUSED_NOTE:
            return PAUSED_TEXT[status]
    if status in ("approved", "denied"):
        decision = session.get(SpendDecision, row.id)
        if decision is not None and decision.by == "policy":
            rule = f" ({clean_text(decision.reason)})" if decision.reason else ""
            verb = "approved" if status == "approved" else "denied"
            return f"One of your rules {verb} this purchase automatically{rule}."
    return STATUS_TEXT.get(status, status)


CREDENTIAL_TEXT = {
    "card": "One-time virtual card, for this amount at this merchant only",
    "shared_payment_token": "Shared payment token, redeemable once by this merchant only",
}

_ADDS = ("tax", "shipping", "fulfillment", "fee", "tip", "gift_wrap")
_SUBTRACTS = ("discount", "items_discount", "store_credit")


@dataclass
class LineView:
    name: str
    description: str
    quantity: int
    unit_amount: int | None
    line_total: int | None
    url_domain: str | None


@dataclass
class TotalView:
    type: str
    label: str
    amount: int


@dataclass
class ApprovalView:
    id: str
    status: str
    status_text: str
    decidable: bool
    merchant_name: str
    merchant_domain: str | None
    merchant_source: str  # "network" (registered merchant) | "agent"
    amount: int
    currency: str
    amount_figures: str
    amount_words: str
    lines: list[LineView]
    totals: list[TotalView]
    problems: list[str]
    credential_text: str
    payment_method_text: str
    decide_by: datetime | None
    minutes_left: int | None
    context: str
    approval_hash: str
    test: bool
    outcome: dict[str, Any] | None = None
    credential_valid_until: datetime | None = None
    events: list[Any] = field(default_factory=list)
    agent: AgentSummary | None = None


def _line_views(items: list[dict[str, Any]]) -> list[LineView]:
    views = []
    for item in items or []:
        quantity = int(item.get("quantity") or 1)
        unit = item.get("unit_amount")
        link = item.get("product_url") or item.get("url")
        views.append(
            LineView(
                name=clean_text(item.get("name")),
                description=clean_text(item.get("description")),
                quantity=quantity,
                unit_amount=unit,
                line_total=quantity * unit if unit is not None else None,
                url_domain=domain_of(link),
            )
        )
    return views


def _label(total: dict[str, Any]) -> str:
    text = clean_text(total.get("display_text")).strip()
    kind = str(total.get("type", "")).replace("_", " ").capitalize()
    return f"{kind} ({text})" if text and text.lower() != kind.lower() else kind


def consistency_problems(
    amount: int, currency: str, lines: list[LineView], totals: list[dict[str, Any]]
) -> list[str]:
    """Where the itemisation disagrees with the amount the credential will carry."""
    problems: list[str] = []
    money = lambda cents: format_money(cents, currency)  # noqa: E731
    by_type: dict[str, int] = {}
    for total in totals or []:
        by_type[str(total.get("type"))] = by_type.get(str(total.get("type")), 0) + int(
            total.get("amount") or 0
        )
    priced = [line.line_total for line in lines if line.line_total is not None]
    items_sum = sum(priced) if lines and len(priced) == len(lines) else None
    if "total" in by_type and by_type["total"] != amount:
        problems.append(
            f"The listed total is {money(by_type['total'])}, but the request is "
            f"for {money(amount)}."
        )
    subtotal = by_type.get("subtotal", by_type.get("items_base_amount"))
    if items_sum is not None and subtotal is not None and items_sum != subtotal:
        problems.append(
            f"The line items add up to {money(items_sum)}, but the subtotal says {money(subtotal)}."
        )
    base = subtotal if subtotal is not None else items_sum
    if base is not None:
        computed = (
            base
            + sum(by_type.get(k, 0) for k in _ADDS)
            - sum(abs(by_type.get(k, 0)) for k in _SUBTRACTS)
        )
        if computed != amount:
            problems.append(
                f"The items and charges add up to {money(computed)}, but the "
                f"request is for {money(amount)}. You would approve "
                f"{money(amount)}."
            )
    return problems


def _payee(session: Session, row: SpendRequest) -> tuple[str, str | None, str]:
    if row.credential_type == "shared_payment_token" and row.network_id:
        merchant = session.scalars(
            select(Merchant).where(Merchant.network_id == row.network_id)
        ).first()
        if merchant is not None:
            return clean_text(merchant.name), domain_of(merchant.url), "network"
        return f"Unknown merchant profile {clean_text(row.network_id)}", None, "agent"
    return (
        clean_text(row.merchant_name) or "(no merchant name)",
        domain_of(row.merchant_url),
        "agent",
    )


def _payment_method_text(session: Session, row: SpendRequest) -> str:
    method = session.get(PaymentMethod, row.payment_method_id) if row.payment_method_id else None
    if method is None:
        return "Your default payment method"
    brand = (method.brand or method.type or "card").capitalize()
    nickname = f" ({clean_text(method.nickname)})" if method.nickname else ""
    return f"{brand} ending in {method.last4}{nickname}"


def build_approval_view(session: Session, row: SpendRequest, *, status: str) -> ApprovalView:
    from linkpay.wallet.spend.service import material_hash

    lines = _line_views(row.line_items)
    totals = [
        TotalView(str(t.get("type")), _label(t), int(t.get("amount") or 0))
        for t in row.totals or []
    ]
    name, domain, source = _payee(session, row)
    deadlines = [d for d in (row.approval_expires_at, row.expires_at) if d is not None]
    decide_by = min(deadlines) if deadlines else None
    return ApprovalView(
        id=row.id,
        status=status,
        status_text=status_text(session, row, status),
        decidable=status == "pending_approval",
        merchant_name=name,
        merchant_domain=domain,
        merchant_source=source,
        amount=row.amount,
        currency=row.currency,
        amount_figures=format_money(row.amount, row.currency),
        amount_words=money_in_words(row.amount, row.currency),
        lines=lines,
        totals=totals,
        problems=consistency_problems(row.amount, row.currency, lines, row.totals),
        credential_text=CREDENTIAL_TEXT.get(row.credential_type, row.credential_type),
        payment_method_text=_payment_method_text(session, row),
        decide_by=decide_by,
        minutes_left=minutes_left(decide_by),
        context=clean_text(row.context),
        approval_hash=material_hash(row),
        test=bool(row.test),
        outcome=row.payment_status_details,
        credential_valid_until=row.credential_valid_until if status == "approved" else None,
        agent=agent_summary(session, row.user_id, row.token_family_id),
    )
