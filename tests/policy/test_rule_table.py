"""The rule engine, case by case: ordering, every condition, wildcards, per-period
counts and time windows (local time zones included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from policy_helpers import UTC_ZONE, WEDNESDAY_AFTERNOON, HistoryCounter, Past, facts, rules
from pydantic import ValidationError

from linkpay.wallet.policy.rules import DEFAULT_REASON, evaluate, merchant_key, parse_rules

AUTO = {"action": "auto_approve"}
DENY = {"action": "deny"}
ASK = {"action": "require_approval"}
T = WEDNESDAY_AFTERNOON
NIGHT = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _when(**conditions: Any) -> dict[str, Any]:
    return {"when": conditions}


# (case id, rules, facts overrides, history, expected action, expected rule id)
CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], list[Past], str, str | None]] = [
    ("no rules: the person decides", [], {}, [], "require_approval", None),
    ("empty conditions match everything", [AUTO], {}, [], "auto_approve", "r1"),
    ("first match wins over a later one", [DENY, AUTO], {}, [], "deny", "r1"),
    (
        "a non-matching first rule falls through",
        [{**DENY, **_when(amount_at_least=10_000)}, AUTO],
        {},
        [],
        "auto_approve",
        "r2",
    ),
    (
        "amount at most: equal matches",
        [{**AUTO, **_when(amount_at_most=1500)}],
        {},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "amount at most: one cent over",
        [{**AUTO, **_when(amount_at_most=1499)}],
        {},
        [],
        "require_approval",
        None,
    ),
    (
        "amount at least: equal matches",
        [{**DENY, **_when(amount_at_least=1500)}],
        {},
        [],
        "deny",
        "r1",
    ),
    (
        "amount range",
        [{**AUTO, **_when(amount_at_least=1000, amount_at_most=2000)}],
        {"amount": 2001},
        [],
        "require_approval",
        None,
    ),
    (
        "exact merchant",
        [{**AUTO, **_when(merchants=["books.example"])}],
        {},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "exact merchant is case-insensitive",
        [{**AUTO, **_when(merchants=["BOOKS.example"])}],
        {},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "exact merchant does not match a subdomain",
        [{**AUTO, **_when(merchants=["books.example"])}],
        {"merchant": "shop.books.example"},
        [],
        "require_approval",
        None,
    ),
    (
        "wildcard matches a subdomain",
        [{**AUTO, **_when(merchants=["*.books.example"])}],
        {"merchant": "shop.books.example"},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "wildcard matches a deep subdomain",
        [{**AUTO, **_when(merchants=["*.books.example"])}],
        {"merchant": "a.b.books.example"},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "wildcard does not match the bare domain",
        [{**AUTO, **_when(merchants=["*.books.example"])}],
        {},
        [],
        "require_approval",
        None,
    ),
    (
        "wildcard does not match a look-alike",
        [{**AUTO, **_when(merchants=["*.books.example"])}],
        {"merchant": "evilbooks.example"},
        [],
        "require_approval",
        None,
    ),
    (
        "block list denies matching merchants",
        [{**DENY, **_when(merchants=["*.casino", "bets.example"])}, AUTO],
        {"merchant": "spin.casino"},
        [],
        "deny",
        "r1",
    ),
    (
        "block list lets others through",
        [{**DENY, **_when(merchants=["*.casino"])}, AUTO],
        {},
        [],
        "auto_approve",
        "r2",
    ),
    (
        "allow list: deny everything not on it",
        [{**DENY, **_when(not_merchants=["books.example", "*.shop"])}, AUTO],
        {"merchant": "other.example"},
        [],
        "deny",
        "r1",
    ),
    (
        "allow list: listed merchant passes",
        [{**DENY, **_when(not_merchants=["books.example", "*.shop"])}, AUTO],
        {"merchant": "a.shop"},
        [],
        "auto_approve",
        "r2",
    ),
    (
        "a request without merchant never matches a merchant list",
        [{**AUTO, **_when(merchants=["*"])}],
        {"merchant": None},
        [],
        "require_approval",
        None,
    ),
    (
        "agent condition: other agent",
        [{**AUTO, **_when(agents=["fam_agent_b"])}],
        {},
        [],
        "require_approval",
        None,
    ),
    (
        "agent condition: this agent",
        [{**AUTO, **_when(agents=["fam_agent_b", "fam_agent_a"])}],
        {},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "currency condition",
        [{**AUTO, **_when(currencies=["eur"])}],
        {"currency": "usd"},
        [],
        "require_approval",
        None,
    ),
    (
        "credential type condition",
        [{**DENY, **_when(credential_types=["shared_payment_token"])}],
        {"credential_type": "shared_payment_token"},
        [],
        "deny",
        "r1",
    ),
    (
        "line item count at most",
        [{**AUTO, **_when(line_items_at_most=2)}],
        {"line_items": 3},
        [],
        "require_approval",
        None,
    ),
    (
        "line item count at least",
        [{**ASK, **_when(line_items_at_least=3)}, AUTO],
        {"line_items": 3},
        [],
        "require_approval",
        "r1",
    ),
    (
        "known merchant only",
        [{**AUTO, **_when(known_merchant=True)}],
        {"known_merchant": True},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "unknown merchant skips a known-merchant rule",
        [{**AUTO, **_when(known_merchant=True)}],
        {},
        [],
        "require_approval",
        None,
    ),
    (
        "time of day inside",
        [{**AUTO, **_when(time={"start": "09:00", "end": "17:00"})}],
        {},
        [],
        "auto_approve",
        "r1",
    ),
    (
        "time of day: end is exclusive",
        [{**AUTO, **_when(time={"start": "09:00", "end": "14:30"})}],
        {},
        [],
        "require_approval",
        None,
    ),
    (
        "window past midnight, late evening",
        [{**DENY, **_when(time={"start": "22:00", "end": "06:00"})}],
        {"at": NIGHT},
        [],
        "deny",
        "r1",
    ),
    (
        "window past midnight, afternoon",
        [{**DENY, **_when(time={"start": "22:00", "end": "06:00"})}, AUTO],
        {},
        [],
        "auto_approve",
        "r2",
    ),
    (
        "weekdays rule on a Saturday",
        [{**AUTO, **_when(time={"days": ["mon", "tue", "wed", "thu", "fri"]})}],
        {"at": SATURDAY},
        [],
        "require_approval",
        None,
    ),
    (
        "weekend rule on a Saturday",
        [{**DENY, **_when(time={"days": ["sat", "sun"]})}],
        {"at": SATURDAY},
        [],
        "deny",
        "r1",
    ),
    (
        "count: under the cap",
        [{**AUTO, **_when(count={"max": 3, "period": "day"})}],
        {},
        [Past("r1", T - timedelta(hours=1)), Past("r1", T - timedelta(hours=2))],
        "auto_approve",
        "r1",
    ),
    (
        "count: at the cap falls through",
        [{**AUTO, **_when(count={"max": 2, "period": "day"})}],
        {},
        [Past("r1", T - timedelta(hours=1)), Past("r1", T - timedelta(hours=2))],
        "require_approval",
        None,
    ),
    (
        "count: yesterday's requests don't count",
        [{**AUTO, **_when(count={"max": 1, "period": "day"})}],
        {},
        [Past("r1", T - timedelta(days=1))],
        "auto_approve",
        "r1",
    ),
    (
        "count per merchant: another merchant's requests don't count",
        [{**AUTO, **_when(count={"max": 1, "period": "day", "per": "merchant"})}],
        {},
        [Past("r1", T - timedelta(hours=1), merchant="other.example")],
        "auto_approve",
        "r1",
    ),
    (
        "count per agent: this agent's requests count",
        [{**AUTO, **_when(count={"max": 1, "period": "week", "per": "agent"})}],
        {},
        [Past("r1", T - timedelta(days=1))],
        "require_approval",
        None,
    ),
    (
        "count: only the rule's own requests count",
        [{**AUTO, **_when(count={"max": 1, "period": "month"})}],
        {},
        [Past("r9", T - timedelta(hours=1))],
        "auto_approve",
        "r1",
    ),
    (
        "count cap falls through to the next rule, not the default",
        [{**AUTO, **_when(count={"max": 1, "period": "hour"})}, DENY],
        {},
        [Past("r1", T - timedelta(minutes=10))],
        "deny",
        "r2",
    ),
    (
        "every condition together",
        [
            {
                **AUTO,
                **_when(
                    agents=["fam_agent_a"],
                    merchants=["*.example"],
                    amount_at_most=2000,
                    currencies=["usd"],
                    credential_types=["card"],
                    line_items_at_most=5,
                    time={"days": ["wed"], "start": "08:00", "end": "20:00"},
                    count={"max": 3, "period": "day", "per": "merchant"},
                ),
            }
        ],
        {},
        [],
        "auto_approve",
        "r1",
    ),
]


@pytest.mark.parametrize(
    ("raw", "overrides", "history", "action", "rule_id"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_table(
    raw: list[dict[str, Any]],
    overrides: dict[str, Any],
    history: list[Past],
    action: str,
    rule_id: str | None,
) -> None:
    decision = evaluate(rules(*raw), facts(**overrides), tz=UTC_ZONE, count=HistoryCounter(history))
    assert (decision.action, decision.rule) == (action, rule_id)
    if rule_id is None:
        assert decision.reason == DEFAULT_REASON
    else:
        assert decision.reason.startswith(f"Rule {int(rule_id[1:])}: ")


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 25


def test_time_windows_use_the_persons_time_zone() -> None:
    # 14:30 UTC is 09:30 in New York (EST in November): inside a 09:00-17:00 rule there,
    # outside it in Tokyo (23:30).
    rule = rules({**AUTO, **_when(time={"start": "09:00", "end": "17:00"})})
    counter = HistoryCounter([])
    assert evaluate(rule, facts(), tz=ZoneInfo("America/New_York"), count=counter).action == (
        "auto_approve"
    )
    assert evaluate(rule, facts(), tz=ZoneInfo("Asia/Tokyo"), count=counter).action == (
        "require_approval"
    )


def test_day_counts_follow_the_local_day() -> None:
    # 03:00 UTC on Wednesday is still Tuesday evening in New York: a request then
    # counts for Tuesday there, not for Wednesday.
    tz = ZoneInfo("America/New_York")
    rule = rules({**AUTO, **_when(count={"max": 1, "period": "day"})})
    history = [Past("r1", datetime(2026, 11, 25, 3, 0, tzinfo=UTC))]
    assert evaluate(rule, facts(), tz=tz, count=HistoryCounter(history, tz)).action == (
        "auto_approve"
    )
    assert evaluate(rule, facts(), tz=UTC_ZONE, count=HistoryCounter(history)).action == (
        "require_approval"
    )


def test_history_is_asked_only_when_the_rest_matches() -> None:
    counter = HistoryCounter([])
    rule = rules({**AUTO, **_when(amount_at_most=10, count={"max": 1, "period": "day"})})
    evaluate(rule, facts(), tz=UTC_ZONE, count=counter)
    assert counter.calls == 0


def test_quorum_rules_carry_their_approvers() -> None:
    decision = evaluate(
        rules({**ASK, "approvers_required": 2, "deny_ends": False}),
        facts(),
        tz=UTC_ZONE,
        count=HistoryCounter([]),
    )
    assert (decision.approvers_required, decision.deny_ends) == (2, False)


@pytest.mark.parametrize(
    "raw",
    [
        [{"id": "a", "action": "approve"}],
        [{"id": "a", "action": "deny", "when": {"amount_at_most": -1}}],
        [{"id": "a", "action": "deny", "when": {"merchants": ["bad domain"]}}],
        [{"id": "a", "action": "deny", "when": {"merchants": []}}],
        [{"id": "a", "action": "deny", "when": {"time": {"start": "25:00", "end": "01:00"}}}],
        [{"id": "a", "action": "deny", "when": {"time": {"start": "09:00"}}}],
        [{"id": "a", "action": "deny", "when": {"currencies": ["dollars"]}}],
        [{"id": "a", "action": "deny", "when": {"colour": "red"}}],
        [{"id": "a", "action": "auto_approve", "approvers_required": 2}],
        [{"id": "a", "action": "deny"}, {"id": "a", "action": "deny"}],
    ],
)
def test_bad_rules_are_refused(raw: list[dict[str, Any]]) -> None:
    with pytest.raises((ValidationError, ValueError)):
        parse_rules(raw)


def test_merchant_key() -> None:
    assert merchant_key("https://Shop.Example:8443/cart", None) == "shop.example"
    assert merchant_key(None, "profile_ABC") == "profile_abc"
    assert merchant_key(None, None) is None
