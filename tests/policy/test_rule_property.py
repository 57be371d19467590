"""The rule engine against a small reference evaluator written here, independently:
random ordered rule lists and random requests must get the same decision."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import UTC_ZONE, HistoryCounter, Past, facts, rules

from linkpay.wallet.policy.rules import Facts, evaluate

HOSTS = ["books.example", "shop.books.example", "a.b.books.example", "spin.casino", "x.shop"]
PATTERNS = ["books.example", "*.books.example", "*.casino", "*.shop", "*", "x.*"]
AGENTS = ["fam_a", "fam_b", "fam_c"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
START = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday


def _reference_domain(pattern: str, host: str | None) -> bool:
    if host is None:
        return False
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, host) is not None


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def _reference_time(window: dict[str, Any], at: datetime) -> bool:
    if "days" in window and DAYS[at.weekday()] not in window["days"]:
        return False
    if "start" not in window:
        return True
    now, start, end = at.hour * 60 + at.minute, _minutes(window["start"]), _minutes(window["end"])
    return start <= now < end if start < end else not end <= now < start


def _reference_count(rule_id: str, cap: dict[str, Any], request: Facts, history: list[Past]) -> int:
    at = request.at
    if cap["period"] == "hour":
        begin = at.replace(minute=0, second=0, microsecond=0)
    elif cap["period"] == "day":
        begin = at.replace(hour=0, minute=0, second=0, microsecond=0)
    else:  # week
        begin = at.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=at.weekday())
    total = 0
    for past in history:
        if past.rule != rule_id or not begin <= past.at <= at:
            continue
        if cap.get("per") == "agent" and past.agent != request.agent:
            continue
        if cap.get("per") == "merchant" and past.merchant != request.merchant:
            continue
        total += 1
    return total


def _reference(
    raw: list[dict[str, Any]], request: Facts, history: list[Past]
) -> tuple[str, str | None]:
    for index, rule in enumerate(raw, start=1):
        rule_id, when = f"r{index}", rule.get("when", {})
        ok = True
        if "agents" in when:
            ok &= request.agent in when["agents"]
        if "merchants" in when:
            ok &= any(_reference_domain(p, request.merchant) for p in when["merchants"])
        if "not_merchants" in when:
            ok &= not any(_reference_domain(p, request.merchant) for p in when["not_merchants"])
        if "amount_at_most" in when:
            ok &= request.amount <= when["amount_at_most"]
        if "amount_at_least" in when:
            ok &= request.amount >= when["amount_at_least"]
        if "credential_types" in when:
            ok &= request.credential_type in when["credential_types"]
        if "line_items_at_most" in when:
            ok &= request.line_items <= when["line_items_at_most"]
        if "time" in when:
            ok &= _reference_time(when["time"], request.at)
        if ok and "count" in when:
            ok &= _reference_count(rule_id, when["count"], request, history) < when["count"]["max"]
        if ok:
            return rule["action"], rule_id
    return "require_approval", None


clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))
windows = st.one_of(
    st.fixed_dictionaries({"days": st.lists(st.sampled_from(DAYS), min_size=1, unique=True)}),
    st.tuples(clock, clock)
    .filter(lambda pair: pair[0] != pair[1])
    .map(lambda pair: {"start": pair[0], "end": pair[1]}),
)
conditions = st.fixed_dictionaries(
    {},
    optional={
        "agents": st.lists(st.sampled_from(AGENTS), min_size=1, max_size=2, unique=True),
        "merchants": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True),
        "not_merchants": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True),
        "amount_at_most": st.integers(0, 5000),
        "amount_at_least": st.integers(0, 5000),
        "credential_types": st.lists(
            st.sampled_from(["card", "shared_payment_token"]), min_size=1, unique=True
        ),
        "line_items_at_most": st.integers(0, 4),
        "time": windows,
        "count": st.fixed_dictionaries(
            {"max": st.integers(1, 3), "period": st.sampled_from(["hour", "day", "week"])},
            optional={"per": st.sampled_from(["wallet", "agent", "merchant"])},
        ),
    },
)
rule_lists = st.lists(
    st.fixed_dictionaries(
        {
            "action": st.sampled_from(["auto_approve", "require_approval", "deny"]),
            "when": conditions,
        }
    ),
    max_size=6,
)
requests = st.builds(
    lambda amount, kind, host, agent, items, minutes: facts(
        amount=amount,
        credential_type=kind,
        merchant=host,
        agent=agent,
        line_items=items,
        at=START + timedelta(minutes=minutes),
    ),
    st.integers(1, 5000),
    st.sampled_from(["card", "shared_payment_token"]),
    st.sampled_from([*HOSTS, None]),
    st.sampled_from(AGENTS),
    st.integers(0, 5),
    st.integers(0, 7 * 24 * 60 - 1),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], Facts, list[Past]]:
    raw = draw(rule_lists)
    request = draw(requests)
    history = draw(
        st.lists(
            st.builds(
                lambda index, back, agent, host: Past(
                    f"r{index}", request.at - timedelta(minutes=back), agent, host
                ),
                st.integers(1, max(1, len(raw))),
                st.integers(0, 3 * 24 * 60),
                st.sampled_from(AGENTS),
                st.sampled_from(HOSTS),
            ),
            max_size=8,
        )
    )
    return raw, request, history


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_engine_agrees_with_the_reference(
    scenario: tuple[list[dict[str, Any]], Facts, list[Past]],
) -> None:
    raw, request, history = scenario
    decision = evaluate(rules(*raw), request, tz=UTC_ZONE, count=HistoryCounter(history))
    assert (decision.action, decision.rule) == _reference(raw, request, history)
