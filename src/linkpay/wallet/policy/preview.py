"""What the last 30 days' requests would have got under a proposed rule list: each
request replayed oldest first through the new rules (per-period counts follow the
replay itself), beside what actually happened. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.policy.periods import period_bounds
from linkpay.wallet.policy.rules import CountCap, Facts, Rule, evaluate, merchant_key
from linkpay.wallet.store.models import SpendRequest
from linkpay.wallet.store.policy_models import SpendDecision

WINDOW = timedelta(days=30)
MAX_ROWS = 200


@dataclass(frozen=True)
class Replayed:
    spend_request_id: str
    at: datetime
    merchant: str | None
    amount: int
    currency: str
    then_status: str
    then_by: str | None
    now_action: str
    now_rule: str | None


def replay(
    session: Session, user_id: str, rules: list[Rule], tz: Any, now: datetime
) -> list[Replayed]:
    rows = session.execute(
        select(SpendRequest, SpendDecision)
        .outerjoin(SpendDecision, SpendDecision.spend_request_id == SpendRequest.id)
        .where(SpendRequest.user_id == user_id, SpendRequest.created_at >= now - WINDOW)
        .order_by(SpendRequest.created_at.desc())
        .limit(MAX_ROWS)
    ).all()
    passed: list[tuple[str, datetime, str | None, str | None]] = []  # rule, at, agent, merchant
    known: set[str] = set()

    def count(rule: Rule, cap: CountCap, facts: Facts) -> int:
        start, end = period_bounds(cap.period, facts.at, tz)
        return sum(
            1
            for rule_id, at, agent, merchant in passed
            if rule_id == rule.id
            and start <= at < end
            and (cap.per != "agent" or agent == facts.agent)
            and (cap.per != "merchant" or merchant == facts.merchant)
        )

    out = []
    for request, decision in reversed(rows):
        merchant = merchant_key(request.merchant_url, request.network_id)
        facts = Facts(
            request.amount,
            request.currency,
            request.credential_type,
            merchant,
            request.token_family_id,
            len(request.line_items or []),
            request.created_at,
            merchant in known,
        )
        verdict = evaluate(rules, facts, tz=tz, count=count)
        if verdict.rule is not None:
            passed.append((verdict.rule, request.created_at, request.token_family_id, merchant))
        if request.status == "succeeded" and merchant:
            known.add(merchant)
        out.append(
            Replayed(
                request.id,
                request.created_at,
                merchant,
                request.amount,
                request.currency,
                request.status,
                decision.by if decision is not None else None,
                verdict.action,
                verdict.rule,
            )
        )
    out.reverse()
    return out


def summary(replayed: list[Replayed]) -> dict[str, int]:
    totals = {"auto_approve": 0, "require_approval": 0, "deny": 0}
    for item in replayed:
        totals[item.now_action] += 1
    return totals
