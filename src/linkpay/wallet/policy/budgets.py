"""Budgets: a cap per calendar day, week or month (in the person's time zone), for
the whole wallet, one agent or the merchants matching a domain pattern. What counts
is the reservation ledger: reserved plus consumed, never over."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from linkpay.wallet.policy.periods import period_bounds, seconds_until
from linkpay.wallet.policy.refusal import Refusal
from linkpay.wallet.policy.rules import Facts, domain_matches
from linkpay.wallet.policy.words import money

BudgetPeriod = Literal["day", "week", "month"]
BudgetScope = Literal["wallet", "agent", "merchant"]
_PERIOD_WORDS = {"day": "day", "week": "week", "month": "month"}


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=40)
    period: BudgetPeriod
    scope: BudgetScope = "wallet"
    target: str | None = None  # agent (token family id) or merchant domain pattern
    amount: int = Field(ge=0)
    currency: str = "usd"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return value.strip().lower()

    @model_validator(mode="after")
    def _target(self) -> Budget:
        if (self.scope == "wallet") != (self.target is None):
            raise ValueError("an agent or merchant budget names its target; a wallet one doesn't")
        return self


def applies(budget: Budget, facts: Facts) -> bool:
    if budget.currency != facts.currency.lower():
        return False
    if budget.scope == "agent":
        return facts.agent == budget.target
    if budget.scope == "merchant":
        return domain_matches(str(budget.target).lower(), facts.merchant)
    return True


def describe_budget(budget: Budget, agent_names: dict[str, str] | None = None) -> str:
    whom = ""
    if budget.scope == "agent":
        whom = f" for {(agent_names or {}).get(str(budget.target), budget.target)}"
    elif budget.scope == "merchant":
        whom = f" at {budget.target}"
    return f"{money(budget.amount, budget.currency)} a {_PERIOD_WORDS[budget.period]}{whom}"


def budget_refusal(
    budget: Budget, used: int, amount: int, now: datetime, tz: ZoneInfo
) -> Refusal | None:
    """Refuse when reserving `amount` would take the budget past its cap."""
    if used + amount <= budget.amount:
        return None
    _start, end = period_bounds(budget.period, now, tz)
    fits_ever = amount <= budget.amount
    return Refusal(
        429 if fits_ever else 400,
        "budget_exceeded",
        f"{money(amount, budget.currency)} would pass the budget of {describe_budget(budget)}: "
        f"{money(max(0, budget.amount - used), budget.currency)} left this {budget.period}",
        retry_after=seconds_until(end, now) if fits_ever else None,
        details={
            "budget": budget.id,
            "remaining": max(0, budget.amount - used),
            "resets_at": int(end.timestamp()),
        },
    )
