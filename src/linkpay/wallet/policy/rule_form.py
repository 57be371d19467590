"""The rules page's plain form: the common rule shapes (what to do, for which merchant
domains, up to what amount, at most how many a day, for which agent) turned into the
same rule JSON the advanced editor and `link-wallet policy set-rules` take, so there
is one format and one validation (`rules.parse_rules`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from linkpay.wallet.policy.rules import ACTIONS, MAX_RULES

_ID_PREFIX = {"auto_approve": "auto", "require_approval": "ask", "deny": "deny"}
_DOLLARS = re.compile(r"^\d{1,7}(\.\d{1,2})?$")


def _amount(text: str) -> int:
    cleaned = re.sub(r"[\s,$]", "", text)
    if not _DOLLARS.match(cleaned):
        raise ValueError("Amount: a dollar figure such as 15 or 15.50")
    whole, _, cents = cleaned.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _per_day(text: str) -> int:
    if not re.fullmatch(r"\d{1,5}", text) or not 1 <= int(text) <= 10_000:
        raise ValueError("At most … a day: a whole number from 1 to 10000")
    return int(text)


def new_rule_id(action: str, taken: Collection[str]) -> str:
    prefix = _ID_PREFIX.get(action, "rule")
    number = 1
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def rule_from_fields(
    fields: Mapping[str, Any], *, taken_ids: Collection[str], agents: Collection[str]
) -> dict[str, Any]:
    """One rule as JSON from the form's fields (`action`, `merchants`, `amount_at_most`,
    `per_day`, `agent`); ValueError with a message for the person."""
    action = str(fields.get("action") or "")
    if action not in ACTIONS:
        raise ValueError("Choose what happens to matching purchases")
    when: dict[str, Any] = {}
    merchants = [part for part in re.split(r"[\s,]+", str(fields.get("merchants") or "")) if part]
    if merchants:
        when["merchants"] = merchants[:20]
    amount = str(fields.get("amount_at_most") or "").strip()
    if amount:
        when["amount_at_most"] = _amount(amount)
    per_day = str(fields.get("per_day") or "").strip()
    if per_day:
        when["count"] = {"max": _per_day(per_day), "period": "day"}
    agent = str(fields.get("agent") or "")
    if agent:
        if agent not in agents:
            raise ValueError("Agent: choose one of your connected agents")
        when["agents"] = [agent]
    rule: dict[str, Any] = {"id": new_rule_id(action, taken_ids), "action": action}
    if when:
        rule["when"] = when
    return rule


def with_rule(
    rules: Sequence[dict[str, Any]], rule: dict[str, Any], *, first: bool
) -> list[dict[str, Any]]:
    """The rule list with `rule` added first or last."""
    if len(rules) >= MAX_RULES:
        raise ValueError(f"At most {MAX_RULES} rules")
    return [rule, *rules] if first else [*rules, rule]


def without_rule(rules: Sequence[dict[str, Any]], rule_id: str) -> list[dict[str, Any]]:
    return [rule for rule in rules if rule.get("id") != rule_id]
