"""What counts against the person's limits and budgets right now, read in SQL inside
the caller's transaction: request counts, rolling money totals, per-period budget use."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select, true
from sqlalchemy.orm import Session

from linkpay.wallet.policy import ledger
from linkpay.wallet.policy.budgets import Budget, applies
from linkpay.wallet.policy.limits import HOUR, SIXTY_DAYS, Usage
from linkpay.wallet.policy.periods import period_bounds
from linkpay.wallet.policy.rules import Facts
from linkpay.wallet.store.models import SpendRequest, UTCDateTime
from linkpay.wire import ACTIVE_STATUSES


@lru_cache(maxsize=2)
def _counts_statement(no_agent: bool) -> Any:
    """Built once (statement caching instead of building it per create). Two one-row
    subqueries, each read through its own index, so the cost follows what is counted
    rather than the person's whole history: the active requests through `(user_id,
    status)`, this agent's creates from `(user_id, token_family_id, created_at)` alone."""
    now = bindparam("now", type_=UTCDateTime())
    live = (SpendRequest.approval_expires_at.is_(None)) | (SpendRequest.approval_expires_at > now)
    unexpired = (SpendRequest.expires_at.is_(None)) | (SpendRequest.expires_at > now)
    valid = (SpendRequest.credential_valid_until.is_(None)) | (
        SpendRequest.credential_valid_until > now
    )
    awaiting = SpendRequest.status.in_(("created", "pending_approval")) & live & unexpired
    approved = (SpendRequest.status == "approved") & valid & unexpired
    active = (
        select(
            func.coalesce(func.sum(case((awaiting | approved, 1), else_=0)), 0).label("active"),
            func.coalesce(func.sum(case((approved, 1), else_=0)), 0).label("approved_unused"),
        )
        .where(SpendRequest.user_id == bindparam("user"), SpendRequest.status.in_(ACTIVE_STATUSES))
        .subquery("active_requests")
    )
    family = SpendRequest.token_family_id
    hour_ago = bindparam("hour_ago", type_=UTCDateTime())
    creates = (
        select(
            func.count(case((SpendRequest.created_at > hour_ago, 1))).label("creates_hour"),
            func.count().label("creates_60_days"),
        )
        .where(
            SpendRequest.user_id == bindparam("user"),
            family.is_(None) if no_agent else family == bindparam("agent"),
            SpendRequest.created_at > bindparam("sixty_days_ago", type_=UTCDateTime()),
        )
        .subquery("agent_creates")
    )
    return select(
        active.c.active,
        active.c.approved_unused,
        creates.c.creates_hour,
        creates.c.creates_60_days,
    ).select_from(active.join(creates, true()))


def _counts_params(user_id: str, agent: str | None, now: datetime) -> dict[str, Any]:
    return {
        "user": user_id,
        "agent": agent,
        "now": now,
        "hour_ago": now - HOUR,
        "sixty_days_ago": now - SIXTY_DAYS,
    }


def counts(
    session: Session, user_id: str, agent: str | None, now: datetime
) -> tuple[int, int, int, int]:
    """Active, approved-but-unused, this agent's creates in the last hour and 60 days."""
    row = session.execute(_counts_statement(agent is None), _counts_params(user_id, agent, now))
    active, approved_unused, creates_hour, creates_60 = (int(value) for value in row.one())
    return active, approved_unused, creates_hour, creates_60


@lru_cache(maxsize=2)
def _usage_statement(no_agent: bool) -> Any:
    """The counts and the rolling money totals in one statement (one round trip per
    create instead of two): two one-row subqueries side by side."""
    request_counts = _counts_statement(no_agent).subquery("request_counts")
    money = ledger.rolling_totals_statement().subquery("money")
    return select(request_counts, money).select_from(request_counts.join(money, true()))


def usage(session: Session, user_id: str, agent: str | None, currency: str, now: datetime) -> Usage:
    """Everything the limits look at, in one query."""
    params = _counts_params(user_id, agent, now) | ledger.rolling_totals_params(
        user_id, currency, now
    )
    # On the session's connection: the ORM's per-statement work is a quarter of this
    # read's cost, and a built statement of columns needs none of it. The flush is what
    # the ORM would do first (this transaction's own rows count).
    session.flush()
    row = session.connection().execute(_usage_statement(agent is None), params).one()
    active, approved_unused, creates_hour, creates_60, day_total, month_total = (
        int(value) for value in row
    )

    def create_times(window: timedelta) -> list[datetime]:
        mine = SpendRequest.token_family_id == agent
        return list(
            session.scalars(
                select(SpendRequest.created_at).where(
                    SpendRequest.user_id == user_id, mine, SpendRequest.created_at > now - window
                )
            )
        )

    return Usage(
        day_total=day_total,
        month_total=month_total,
        active=active,
        approved_unused=approved_unused,
        agent_creates_hour=creates_hour,
        agent_creates_60_days=creates_60,
        amount_entries=lambda window: ledger.amount_entries(
            session, user_id, currency, now, window
        ),
        create_times=create_times,
    )


def budget_usage(
    session: Session,
    user_id: str,
    budgets: tuple[Budget, ...],
    currency: str,
    now: datetime,
    tz: ZoneInfo,
    facts: Facts | None = None,
) -> dict[str, int]:
    """Reserved + consumed in the current period of each budget in `currency`."""
    chosen = [b for b in budgets if b.currency == currency.lower()]
    if facts is not None:
        chosen = [b for b in chosen if applies(b, facts)]
    if not chosen:
        return {}
    periods = sorted({b.period for b in chosen})
    starts = [period_bounds(period, now, tz)[0] for period in periods]
    groups = ledger.period_usage(session, user_id, currency, starts)
    used: dict[str, int] = {}
    for budget in chosen:
        index = periods.index(budget.period)
        total = 0
        for (agent, merchant), sums in groups.items():
            probe = Facts(0, currency, "card", merchant, agent, 0, now)
            if applies(budget, probe):
                total += sums[index]
        used[budget.id] = total
    return used
