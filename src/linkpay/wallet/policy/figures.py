"""Remaining limits and budgets as figures: the dry run, `GET /balances`, the rules
and spending pages all show the same numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from linkpay.wallet.policy.budgets import applies, describe_budget
from linkpay.wallet.policy.limits import describe_limit
from linkpay.wallet.policy.periods import period_bounds
from linkpay.wallet.policy.rules import Facts
from linkpay.wallet.policy.service import Policy, Usage
from linkpay.wallet.policy.usage import budget_usage


def limit_figures(policy: Policy, usage: Usage, currency: str) -> list[dict[str, Any]]:
    limits = policy.limits
    rows = [
        ("per_request", limits.per_request, limits.per_request, currency),
        ("per_day", limits.per_day, limits.per_day - usage.day_total, currency),
        ("per_30_days", limits.per_30_days, limits.per_30_days - usage.month_total, currency),
        ("max_active", limits.max_active, limits.max_active - usage.active, None),
        (
            "max_approved_unused",
            limits.max_approved_unused,
            limits.max_approved_unused - usage.approved_unused,
            None,
        ),
        (
            "creates_per_hour",
            limits.creates_per_hour,
            limits.creates_per_hour - usage.agent_creates_hour,
            None,
        ),
        (
            "creates_per_60_days",
            limits.creates_per_60_days,
            limits.creates_per_60_days - usage.agent_creates_60_days,
            None,
        ),
    ]
    return [
        {
            "type": name,
            "limit": limit,
            "remaining": max(0, remaining),
            "currency": money_currency,
            "description": describe_limit(name, limit),
        }
        for name, limit, remaining, money_currency in rows
    ]


def budget_figures(
    session: Session,
    user_id: str,
    policy: Policy,
    now: datetime,
    facts: Facts | None = None,
    agent_names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    figures = []
    for currency in sorted({budget.currency for budget in policy.budgets}):
        used = budget_usage(session, user_id, policy.budgets, currency, now, policy.tz)
        for budget in policy.budgets:
            if budget.currency != currency:
                continue
            _start, end = period_bounds(budget.period, now, policy.tz)
            spent = used.get(budget.id, 0)
            figures.append(
                {
                    "id": budget.id,
                    "period": budget.period,
                    "scope": budget.scope,
                    "target": budget.target,
                    "amount": budget.amount,
                    "used": spent,
                    "remaining": max(0, budget.amount - spent),
                    "currency": currency,
                    "resets_at": int(end.timestamp()),
                    "applies": applies(budget, facts) if facts is not None else None,
                    "description": describe_budget(budget, agent_names),
                }
            )
    return figures
