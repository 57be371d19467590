"""Helpers for the policy tests: request facts with sensible defaults and a counter
over an in-memory history (imported by the test modules)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from linkpay.wallet.policy.periods import period_bounds
from linkpay.wallet.policy.rules import CountCap, Facts, Rule, parse_rules

UTC_ZONE = ZoneInfo("UTC")
# A Wednesday, 14:30 UTC.
WEDNESDAY_AFTERNOON = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def facts(**overrides: Any) -> Facts:
    base = Facts(
        amount=1500,
        currency="usd",
        credential_type="card",
        merchant="books.example",
        agent="fam_agent_a",
        line_items=1,
        at=WEDNESDAY_AFTERNOON,
        known_merchant=False,
    )
    return replace(base, **overrides)


def rules(*raw: dict[str, Any]) -> list[Rule]:
    return parse_rules([{"id": f"r{i}", **item} for i, item in enumerate(raw, start=1)])


@dataclass(frozen=True)
class Past:
    """A request some rule already let through."""

    rule: str
    at: datetime
    agent: str | None = "fam_agent_a"
    merchant: str | None = "books.example"


class HistoryCounter:
    """Counts past requests through a rule in the current calendar period."""

    def __init__(self, history: list[Past], tz: ZoneInfo = UTC_ZONE) -> None:
        self.history = history
        self.tz = tz
        self.calls = 0

    def __call__(self, rule: Rule, cap: CountCap, request: Facts) -> int:
        self.calls += 1
        start, end = period_bounds(cap.period, request.at, self.tz)
        return sum(
            1
            for past in self.history
            if past.rule == rule.id
            and start <= past.at < end
            and (cap.per != "agent" or past.agent == request.agent)
            and (cap.per != "merchant" or past.merchant == request.merchant)
        )
