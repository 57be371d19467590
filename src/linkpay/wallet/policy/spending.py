"""Spending figures for the spending page, from the reservation ledger (what was
charged plus what approved requests still hold) and the stored decisions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from linkpay.wallet.policy.periods import period_bounds
from linkpay.wallet.store.policy_models import LedgerEntry, SpendDecision

DAYS = 30
_SIGNED = case(
    (LedgerEntry.kind == "reserve", LedgerEntry.amount),
    (LedgerEntry.kind == "release", -LedgerEntry.amount),
    else_=0,
)


def per_day(session: Session, user_id: str, tz: Any, now: datetime) -> list[tuple[str, int]]:
    """(local date, cents) for each of the last 30 days, oldest first, in USD."""
    first, _ = period_bounds("day", now - timedelta(days=DAYS - 1), tz)
    rows = session.execute(
        select(LedgerEntry.reserved_at, _SIGNED).where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.currency == "usd",
            LedgerEntry.reserved_at >= first,
        )
    ).all()
    totals: dict[str, int] = {}
    for at, amount in rows:
        day = at.astimezone(tz).date().isoformat()
        totals[day] = totals.get(day, 0) + int(amount)
    days = [
        (now - timedelta(days=DAYS - 1 - n)).astimezone(tz).date().isoformat() for n in range(DAYS)
    ]
    return [(day, totals.get(day, 0)) for day in days]


def by_column(
    session: Session, user_id: str, column: Any, now: datetime, limit: int = 8
) -> list[tuple[str | None, int]]:
    """The biggest agents or merchants over 30 days: [(key, cents)]."""
    total = func.sum(_SIGNED)
    rows = session.execute(
        select(column, total)
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.currency == "usd",
            LedgerEntry.reserved_at >= now - timedelta(days=DAYS),
        )
        .group_by(column)
        .order_by(total.desc())
        .limit(limit)
    ).all()
    return [(key, int(amount)) for key, amount in rows if amount]


def per_agent(session: Session, user_id: str, now: datetime) -> list[tuple[str | None, int]]:
    return by_column(session, user_id, LedgerEntry.agent, now)


def per_merchant(session: Session, user_id: str, now: datetime) -> list[tuple[str | None, int]]:
    return by_column(session, user_id, LedgerEntry.merchant, now)


def deciders(session: Session, user_id: str, now: datetime) -> dict[str, int]:
    """Approvals over 30 days by who decided: {"policy": n, "person": m}."""
    rows = session.execute(
        select(SpendDecision.by, func.count())
        .join(LedgerEntry, LedgerEntry.spend_request_id == SpendDecision.spend_request_id)
        .where(
            SpendDecision.user_id == user_id,
            SpendDecision.by.is_not(None),
            LedgerEntry.kind == "reserve",
            LedgerEntry.reserved_at >= now - timedelta(days=DAYS),
        )
        .group_by(SpendDecision.by)
    ).all()
    return {"policy": 0, "person": 0, **{str(by): int(n) for by, n in rows}}
