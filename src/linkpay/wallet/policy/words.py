"""Each rule, limit and budget in plain words, for the rules page, the CLI and the
`reason` of a decision ("Purchases up to $15 at merchants you've bought from before
are approved automatically, at most 3 a day")."""

from __future__ import annotations

from collections.abc import Mapping

from linkpay.money import currency_exponent
from linkpay.wallet.policy.rules import Conditions, CountCap, Rule, TimeWindow

_PER_PERIOD = {"hour": "an hour", "day": "a day", "week": "a week", "month": "a month"}
_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_VERBS = {
    "auto_approve": "are approved automatically",
    "require_approval": "need your approval",
    "deny": "are refused",
}


def money(amount: int, currency: str = "usd") -> str:
    """$15, $15.50, 1500 JPY, 12.30 EUR."""
    code = currency.lower()
    if currency_exponent(code) == 0:
        return f"{amount} {code.upper()}"
    whole, cents = divmod(amount, 100)
    figure = f"{whole:,}" if cents == 0 else f"{whole:,}.{cents:02d}"
    return f"${figure}" if code == "usd" else f"{figure} {code.upper()}"


def _or_list(items: list[str], joiner: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {joiner} " + items[-1]


def _domain(pattern: str) -> str:
    if pattern == "*":
        return "any merchant"
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        return f"any site under {pattern[2:]}"
    return pattern


def _amount(when: Conditions, currency: str) -> str | None:
    low, high = when.amount_at_least, when.amount_at_most
    if low is not None and high is not None:
        return f"of {money(low, currency)} to {money(high, currency)}"
    if high is not None:
        return f"up to {money(high, currency)}"
    if low is not None:
        return f"of {money(low, currency)} or more"
    return None


def _items(when: Conditions) -> str | None:
    low, high = when.line_items_at_least, when.line_items_at_most
    if low is not None and high is not None:
        return f"with {low} to {high} items"
    if high is not None:
        return f"with at most {high} item{'s' if high != 1 else ''}"
    if low is not None:
        return f"with at least {low} item{'s' if low != 1 else ''}"
    return None


def _days(days: tuple[str, ...]) -> str:
    chosen = set(days)
    if chosen == {"mon", "tue", "wed", "thu", "fri"}:
        return "on weekdays"
    if chosen == {"sat", "sun"}:
        return "at weekends"
    ordered = [name for key, name in _DAY_NAMES.items() if key in chosen]
    return "on " + _or_list(ordered)


def _time(window: TimeWindow) -> str:
    parts = []
    if window.days is not None:
        parts.append(_days(window.days))
    if window.start is not None and window.end is not None:
        parts.append(f"between {window.start} and {window.end}")
    return " ".join(parts)


def describe_count(cap: CountCap) -> str:
    scope = {"wallet": "", "agent": " per agent", "merchant": " per merchant"}[cap.per]
    return f"at most {cap.max} {_PER_PERIOD[cap.period]}{scope}"


def describe_rule(rule: Rule, agent_names: Mapping[str, str] | None = None) -> str:
    when = rule.when
    currency = when.currencies[0] if when.currencies and len(when.currencies) == 1 else "usd"
    kinds = when.credential_types
    if kinds == ("card",):
        subject = "Card purchases"
    elif kinds == ("shared_payment_token",):
        subject = "Machine payments (shared payment tokens)"
    else:
        subject = "Purchases"
    parts = [subject]
    amount = _amount(when, currency)
    if amount:
        parts.append(amount)
    if when.currencies and len(when.currencies) > 1:
        parts.append("in " + _or_list([code.upper() for code in when.currencies]))
    elif when.currencies and when.amount_at_most is None and when.amount_at_least is None:
        parts.append(f"in {when.currencies[0].upper()}")
    if when.merchants is not None:
        parts.append("at " + _or_list([_domain(p) for p in when.merchants]))
    if when.known_merchant is True:
        parts.append("at merchants you've bought from before")
    elif when.known_merchant is False:
        parts.append("at merchants you haven't bought from before")
    if when.not_merchants is not None:
        parts.append("except at " + _or_list([_domain(p) for p in when.not_merchants]))
    if when.agents is not None:
        names = [(agent_names or {}).get(agent, agent) for agent in when.agents]
        parts.append(("from " if len(names) == 1 else "from any of ") + _or_list(names))
    items = _items(when)
    if items:
        parts.append(items)
    if when.time is not None:
        parts.append(_time(when.time))
    verb = _VERBS[rule.action]
    if rule.action == "require_approval" and rule.approvers_required:
        n = rule.approvers_required
        verb = f"need approval from {n} approver{'s' if n != 1 else ''}"
        if not rule.deny_ends:
            verb += " (a single deny does not end them)"
    text = " ".join(parts) + " " + verb
    if when.count is not None:
        text += ", " + describe_count(when.count)
    return text
