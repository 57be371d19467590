"""The reservation ledger: reserve on approval, consume on charge, release when an
approved request ends without one (cancel, expiry, failure, void). Every write runs in
the caller's transaction, beside the state change it belongs to.

What counts against a limit or budget is `reserve - release` over the rows reserved
in its window: reserved-but-unused plus consumed. Writers that *add* (reserve) first
take the wallet lock (`lock_wallet`), so two processes can never both see room for
the last dollar; consume and release only give back, so they need no lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from linkpay.wallet.store.models import SpendRequest, UTCDateTime
from linkpay.wallet.store.policy_models import LedgerEntry

_SIGNED = case(
    (LedgerEntry.kind == "reserve", LedgerEntry.amount),
    (LedgerEntry.kind == "release", -LedgerEntry.amount),
    else_=0,
)
# Approved requests still able to be charged end by one of these transitions.
_HOLDING = ("approved", "requires_action")
_RELEASING = frozenset({"canceled", "expired", "failed", "denied"})


# Namespace of our transaction-level advisory locks (first key of the two-key form).
WALLET_LOCK_CLASS = 1313


def lock_wallet(session: Session, user_id: str) -> None:
    """Serialize reservations of one wallet across processes and hosts. PostgreSQL:
    a transaction-level advisory lock keyed by the wallet (it does not conflict with
    the row locks creates take on the person, and ends with the transaction). SQLite
    transactions already hold the database write lock from BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.connection().exec_driver_sql(
        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (WALLET_LOCK_CLASS, user_id)
    )


@dataclass(frozen=True)
class Held:
    """What a request holds in the ledger: reserved, consumed and released so far."""

    reserved: int = 0
    consumed: int = 0
    released: int = 0
    currency: str = "usd"
    reserved_at: datetime | None = None
    agent: str | None = None
    merchant: str | None = None

    @property
    def outstanding(self) -> int:
        return self.reserved - self.consumed - self.released


def held(session: Session, spend_request_id: str) -> Held:
    rows = session.execute(
        select(
            LedgerEntry.kind,
            LedgerEntry.amount,
            LedgerEntry.currency,
            LedgerEntry.reserved_at,
            LedgerEntry.agent,
            LedgerEntry.merchant,
        ).where(LedgerEntry.spend_request_id == spend_request_id)
    ).all()
    if not rows:
        return Held()
    totals = {"reserve": 0, "consume": 0, "release": 0}
    for kind, amount, *_rest in rows:
        totals[kind] += amount
    _kind, _amount, currency, reserved_at, agent, merchant = rows[0]
    return Held(
        totals["reserve"],
        totals["consume"],
        totals["release"],
        currency,
        reserved_at,
        agent,
        merchant,
    )


def _entry(
    session: Session,
    user_id: str,
    spend_request_id: str,
    kind: str,
    amount: int,
    base: Held,
    now: datetime,
) -> None:
    session.add(
        LedgerEntry(
            user_id=user_id,
            spend_request_id=spend_request_id,
            kind=kind,
            amount=amount,
            currency=base.currency,
            agent=base.agent,
            merchant=base.merchant,
            reserved_at=base.reserved_at or now,
            created_at=now,
        )
    )


def reserve(
    session: Session,
    *,
    user_id: str,
    spend_request_id: str,
    amount: int,
    currency: str,
    agent: str | None,
    merchant: str | None,
    now: datetime,
) -> None:
    """Hold `amount` for an approved request. The caller holds the wallet lock and has
    checked the limits and budgets under it."""
    base = Held(currency=currency.lower(), reserved_at=now, agent=agent, merchant=merchant)
    _entry(session, user_id, spend_request_id, "reserve", amount, base, now)
    session.flush()


def release(session: Session, row: SpendRequest, now: datetime) -> int:
    """Give back what an ended request still holds; returns the amount released."""
    current = held(session, row.id)
    if current.outstanding <= 0:
        return 0
    _entry(session, row.user_id, row.id, "release", current.outstanding, current, now)
    return current.outstanding


def consume(session: Session, row: SpendRequest, charged: int, now: datetime) -> None:
    """A charge used the reservation: record what was charged (never more than was
    held) and release any remainder."""
    current = held(session, row.id)
    if current.outstanding <= 0:
        return
    used = max(0, min(charged, current.outstanding))
    if used:
        _entry(session, row.user_id, row.id, "consume", used, current, now)
    if current.outstanding - used:
        _entry(session, row.user_id, row.id, "release", current.outstanding - used, current, now)


def follow_transition(
    session: Session,
    row: SpendRequest,
    *,
    from_status: str,
    to_status: str,
    values: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Keep the ledger in step with a state change (called by `spend.states`)."""
    if from_status not in _HOLDING:
        return
    if to_status == "succeeded":
        details = (values or {}).get("payment_status_details") or {}
        consume(session, row, int(details.get("amount", row.amount)), now)
    elif to_status in _RELEASING:
        release(session, row, now)


# --- what counts -------------------------------------------------------------------


@lru_cache(maxsize=1)
def rolling_totals_statement() -> Any:
    """(last 24 hours, last 30 days) of reserved + consumed, for parameters `user`,
    `currency` (lower case), `day_start` and `month_start`. Built once: it runs on every
    create (usage.py reads it together with the request counts)."""
    day_start = bindparam("day_start", type_=UTCDateTime())
    return select(
        func.coalesce(
            func.sum(case((LedgerEntry.reserved_at > day_start, _SIGNED), else_=0)), 0
        ).label("day_total"),
        func.coalesce(func.sum(_SIGNED), 0).label("month_total"),
    ).where(
        LedgerEntry.user_id == bindparam("user"),
        LedgerEntry.currency == bindparam("currency"),
        LedgerEntry.reserved_at > bindparam("month_start", type_=UTCDateTime()),
    )


def rolling_totals_params(user_id: str, currency: str, now: datetime) -> dict[str, Any]:
    return {
        "user": user_id,
        "currency": currency.lower(),
        "day_start": now - timedelta(days=1),
        "month_start": now - timedelta(days=30),
    }


def rolling_totals(session: Session, user_id: str, currency: str, now: datetime) -> tuple[int, int]:
    """(last 24 hours, last 30 days) of reserved + consumed."""
    day, month = session.execute(
        rolling_totals_statement(), rolling_totals_params(user_id, currency, now)
    ).one()
    return int(day), int(month)


def amount_entries(
    session: Session, user_id: str, currency: str, now: datetime, window: timedelta
) -> list[tuple[datetime, int]]:
    """(reserved_at, net amount) per request inside a rolling window (retry_after)."""
    rows = session.execute(
        select(func.min(LedgerEntry.reserved_at), func.sum(_SIGNED))
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.currency == currency.lower(),
            LedgerEntry.reserved_at > now - window,
        )
        .group_by(LedgerEntry.spend_request_id)
    ).all()
    return [(at, int(amount)) for at, amount in rows if amount]


def period_usage(
    session: Session,
    user_id: str,
    currency: str,
    starts: Iterable[datetime],
) -> dict[tuple[str | None, str | None], list[int]]:
    """Reserved + consumed since each of `starts`, grouped by (agent, merchant), so
    budgets of any scope are summed in one query: {(agent, merchant): [per start]}."""
    starts = list(starts)
    if not starts:
        return {}
    columns = [
        func.coalesce(func.sum(case((LedgerEntry.reserved_at >= start, _SIGNED), else_=0)), 0)
        for start in starts
    ]
    rows = session.execute(
        select(LedgerEntry.agent, LedgerEntry.merchant, *columns)
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.currency == currency.lower(),
            LedgerEntry.reserved_at >= min(starts),
        )
        .group_by(LedgerEntry.agent, LedgerEntry.merchant)
    ).all()
    return {(row[0], row[1]): [int(value) for value in row[2:]] for row in rows}


def wallet_total(session: Session, user_id: str, *, since: datetime | None = None) -> int:
    """Reserved + consumed for the whole wallet (tests and the spending page)."""
    conditions = [LedgerEntry.user_id == user_id]
    if since is not None:
        conditions.append(LedgerEntry.reserved_at >= since)
    value = session.execute(select(func.coalesce(func.sum(_SIGNED), 0)).where(and_(*conditions)))
    return int(value.scalar_one())
