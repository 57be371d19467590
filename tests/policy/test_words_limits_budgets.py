"""Plain words for rules and budgets, the limits' arithmetic (retry_after included)
and budget refusals: the pure parts the ledger and pages build on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from policy_helpers import UTC_ZONE, facts, rules

from linkpay.wallet.policy.budgets import Budget, applies, budget_refusal, describe_budget
from linkpay.wallet.policy.limits import (
    DEFAULT_MAXIMUMS,
    LINK_DEFAULTS,
    Limits,
    Usage,
    adjusted,
    check_create,
    check_reserve,
    loosened,
)
from linkpay.wallet.policy.periods import period_bounds, rolling_free_at
from linkpay.wallet.policy.words import describe_rule, money

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def test_the_issue_example_reads_naturally() -> None:
    (rule,) = rules(
        {
            "action": "auto_approve",
            "when": {
                "amount_at_most": 1500,
                "known_merchant": True,
                "count": {"max": 3, "period": "day"},
            },
        }
    )
    assert describe_rule(rule) == (
        "Purchases up to $15 at merchants you've bought from before are approved "
        "automatically, at most 3 a day"
    )


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (
            {"action": "deny", "when": {"merchants": ["*.casino", "bets.example"]}},
            "Purchases at any site under casino or bets.example are refused",
        ),
        (
            {"action": "deny", "when": {"not_merchants": ["books.example"]}},
            "Purchases except at books.example are refused",
        ),
        (
            {
                "action": "require_approval",
                "when": {"amount_at_least": 10_000},
                "approvers_required": 2,
            },
            "Purchases of $100 or more need approval from 2 approvers",
        ),
        (
            {
                "action": "auto_approve",
                "when": {
                    "agents": ["fam_1"],
                    "credential_types": ["card"],
                    "time": {
                        "days": ["mon", "tue", "wed", "thu", "fri"],
                        "start": "09:00",
                        "end": "17:00",
                    },
                },
            },
            "Card purchases from Shopping bot on weekdays between 09:00 and 17:00 are "
            "approved automatically",
        ),
        (
            {
                "action": "auto_approve",
                "when": {
                    "amount_at_most": 250,
                    "currencies": ["eur"],
                    "count": {"max": 5, "period": "week", "per": "merchant"},
                },
            },
            "Purchases up to 2.50 EUR are approved automatically, at most 5 a week per merchant",
        ),
    ],
)
def test_plain_words(raw: dict[str, object], text: str) -> None:
    (rule,) = rules(raw)
    assert describe_rule(rule, {"fam_1": "Shopping bot"}) == text


def test_money() -> None:
    assert [money(1500), money(1550), money(123_456_78), money(1500, "jpy")] == [
        "$15",
        "$15.50",
        "$123,456.78",
        "1500 JPY",
    ]


def _usage(**overrides: object) -> Usage:
    values: dict[str, object] = {
        "day_total": 0,
        "month_total": 0,
        "active": 0,
        "approved_unused": 0,
        "agent_creates_hour": 0,
        "agent_creates_60_days": 0,
        "amount_entries": lambda _window: [],
        "create_times": lambda _window: [],
    }
    values.update(overrides)
    return Usage(**values)  # type: ignore[arg-type]


def test_links_defaults() -> None:
    assert LINK_DEFAULTS == Limits(50_000, 50_000, 2_000_000, 30, 10, 50, 200)


def test_person_adjusts_within_the_operators_maximum() -> None:
    raised = adjusted(LINK_DEFAULTS, {"per_day": 80_000}, DEFAULT_MAXIMUMS)
    assert raised.per_day == 80_000
    assert loosened(LINK_DEFAULTS, raised) == ["per_day"]
    assert loosened(raised, LINK_DEFAULTS) == []
    with pytest.raises(ValueError, match="per_request must be between 1 and \\$500"):
        adjusted(LINK_DEFAULTS, {"per_request": 50_001}, DEFAULT_MAXIMUMS)
    with pytest.raises(ValueError, match="unknown limit"):
        adjusted(LINK_DEFAULTS, {"per_week": 1}, DEFAULT_MAXIMUMS)


def test_daily_limit_refusal_says_when_it_frees_up() -> None:
    entries = [(NOW - timedelta(hours=20), 30_000), (NOW - timedelta(hours=2), 15_000)]
    usage = _usage(day_total=45_000, amount_entries=lambda _w: entries)
    refusal = check_reserve(LINK_DEFAULTS, usage, 10_000, NOW)
    assert refusal is not None
    assert (refusal.status, refusal.code) == (429, "daily_limit_exceeded")
    assert refusal.retry_after == 4 * 3600  # the $300 from 20 hours ago ages out
    assert refusal.details["remaining"] == 5_000
    assert check_reserve(LINK_DEFAULTS, usage, 5_000, NOW) is None


def test_count_limits() -> None:
    assert check_create(LINK_DEFAULTS, _usage(active=30), 100, NOW).code == (  # type: ignore[union-attr]
        "active_requests_limit_reached"
    )
    assert check_reserve(LINK_DEFAULTS, _usage(approved_unused=10), 100, NOW).code == (  # type: ignore[union-attr]
        "approved_unused_limit_reached"
    )
    assert check_create(LINK_DEFAULTS, _usage(), 50_001, NOW).code == "per_request_limit_exceeded"  # type: ignore[union-attr]
    times = [NOW - timedelta(minutes=59 - i) for i in range(50)]
    refusal = check_create(
        LINK_DEFAULTS, _usage(agent_creates_hour=50, create_times=lambda _w: times), 100, NOW
    )
    assert refusal is not None and refusal.code == "agent_hourly_create_limit_reached"
    assert refusal.retry_after == 60


def test_rolling_free_at() -> None:
    window = timedelta(days=1)
    assert rolling_free_at([], window, 100, 101, NOW) is None
    assert rolling_free_at([(NOW, 50)], window, 100, 50, NOW) == NOW


def test_budgets_by_scope_and_period() -> None:
    wallet = Budget(id="b1", period="day", amount=10_000)
    agent = Budget(id="b2", period="week", scope="agent", target="fam_agent_a", amount=5_000)
    shop = Budget(id="b3", period="month", scope="merchant", target="*.example", amount=100)
    request = facts(merchant="shop.example")
    assert applies(wallet, request) and applies(agent, request) and applies(shop, request)
    assert not applies(agent, facts(agent="fam_other"))
    assert not applies(wallet, facts(currency="eur"))
    refusal = budget_refusal(wallet, 9_000, 1_001, NOW, UTC_ZONE)
    assert refusal is not None and (refusal.code, refusal.status) == ("budget_exceeded", 429)
    assert refusal.retry_after == int((datetime(2026, 11, 26, tzinfo=UTC) - NOW).total_seconds())
    assert budget_refusal(wallet, 9_000, 1_000, NOW, UTC_ZONE) is None
    assert describe_budget(shop) == "$1 a month at *.example"
    with pytest.raises(ValueError):
        Budget(id="b4", period="day", scope="agent", amount=1)


def test_period_bounds_across_daylight_saving() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Berlin")
    start, end = period_bounds("day", datetime(2026, 10, 25, 12, tzinfo=UTC), tz)
    assert (end - start) == timedelta(hours=25)  # the day clocks go back
    start, end = period_bounds("month", datetime(2026, 12, 15, tzinfo=UTC), tz)
    start, end = start.astimezone(tz), end.astimezone(tz)
    assert (start.month, start.day, end.year, end.month, end.hour) == (12, 1, 2027, 1, 0)
    start, _end = period_bounds("week", datetime(2026, 11, 29, 12, tzinfo=UTC), tz)
    assert (start.astimezone(tz).weekday(), start.astimezone(tz).hour) == (0, 0)
