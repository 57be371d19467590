"""Policy rules: an ordered list, the first rule whose conditions all hold decides,
and when none does the person decides (`require_approval`).

A rule is data (stored as JSON, edited by the person, validated here). Evaluation is
pure: the caller supplies the request's facts and a `Counter` answering "how many
requests did this rule already let through in the current period", so the engine
knows nothing of the database.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from linkpay.wallet.policy.periods import WEEKDAYS, Period

Action = Literal["auto_approve", "require_approval", "deny"]
ACTIONS: tuple[Action, ...] = ("auto_approve", "require_approval", "deny")
CountScope = Literal["wallet", "agent", "merchant"]
CredentialKind = Literal["card", "shared_payment_token"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_PATTERN = re.compile(r"^[a-z0-9*][a-z0-9*.\-_]*$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_RULES = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountCap(_Strict):
    """At most `max` requests through this rule per calendar `period`, counted for
    the whole wallet, per agent or per merchant. Beyond it the rule stops matching
    and the next rule (or the default) decides."""

    max: int = Field(ge=1, le=10_000)
    period: Period
    per: CountScope = "wallet"


class TimeWindow(_Strict):
    """Local days of the week and/or a time of day [start, end); a window whose end
    is before its start runs past midnight (22:00–06:00)."""

    days: tuple[Weekday, ...] | None = None
    start: str | None = None
    end: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None and not _CLOCK.match(value):
            raise ValueError("a time of day is HH:MM, 00:00 to 23:59")
        return value

    @model_validator(mode="after")
    def _both_ends(self) -> TimeWindow:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start is not None and self.start == self.end:
            raise ValueError("start and end must differ")
        if self.days is not None and not self.days:
            raise ValueError("days, when given, names at least one day")
        return self


def _patterns(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    cleaned = tuple(value.strip().lower().rstrip(".") for value in values)
    for value in cleaned:
        if not _PATTERN.match(value) or len(value) > 253:
            raise ValueError(f"{value!r} is not a domain pattern (letters, digits, '.', '-', '*')")
    if not cleaned:
        raise ValueError("give at least one domain pattern")
    return cleaned


class Conditions(_Strict):
    """Every given condition must hold; an empty set of conditions always holds."""

    agents: tuple[str, ...] | None = None  # connection (token family) ids
    merchants: tuple[str, ...] | None = None  # domain patterns: matches any
    not_merchants: tuple[str, ...] | None = None  # domain patterns: matches none
    known_merchant: bool | None = None  # bought from there before (a charge succeeded)
    amount_at_most: int | None = Field(default=None, ge=0)
    amount_at_least: int | None = Field(default=None, ge=0)
    currencies: tuple[str, ...] | None = None
    credential_types: tuple[CredentialKind, ...] | None = None
    line_items_at_most: int | None = Field(default=None, ge=0)
    line_items_at_least: int | None = Field(default=None, ge=0)
    time: TimeWindow | None = None
    count: CountCap | None = None

    @field_validator("merchants", "not_merchants")
    @classmethod
    def _merchants(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _patterns(value)

    @field_validator("currencies")
    @classmethod
    def _currencies(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        lowered = tuple(code.strip().lower() for code in value)
        if not lowered or any(not re.fullmatch(r"[a-z]{3}", code) for code in lowered):
            raise ValueError("currencies are ISO 4217 codes such as usd")
        return lowered


class Rule(_Strict):
    id: str = Field(min_length=1, max_length=40)
    action: Action
    when: Conditions = Conditions()
    # Shared wallets: this many approvers must say yes (require_approval only).
    approvers_required: int | None = Field(default=None, ge=1, le=20)
    # With several approvers, does one "deny" end the request? (default yes)
    deny_ends: bool = True

    @model_validator(mode="after")
    def _quorum_needs_approval(self) -> Rule:
        if self.approvers_required is not None and self.action != "require_approval":
            raise ValueError("approvers_required only goes with require_approval")
        return self


@dataclass(frozen=True)
class Facts:
    """What the rules look at, about one request."""

    amount: int
    currency: str
    credential_type: str
    merchant: str | None  # host of merchant_url, or the network id for SPT requests
    agent: str | None  # token family id
    line_items: int
    at: datetime  # aware
    known_merchant: bool = False


@dataclass(frozen=True)
class Decision:
    action: Action
    rule: str | None  # the deciding rule's id; None for the default
    reason: str
    approvers_required: int = 1
    deny_ends: bool = True


Counter = Callable[[Rule, CountCap, Facts], int]
DEFAULT_REASON = "No rule matched, so the person decides"


def merchant_key(merchant_url: str | None, network_id: str | None) -> str | None:
    """The merchant as rules see it: the lowercase host of its URL, else its network
    id (SPT requests are bound to a network profile, not a URL)."""
    if merchant_url:
        host = urlsplit(merchant_url).hostname
        if host:
            return host.lower().rstrip(".")
    return network_id.lower() if network_id else None


def domain_matches(pattern: str, host: str | None) -> bool:
    """`example.com` matches that host exactly; `*.example.com` any subdomain of it
    (not the bare domain); `*` anything. Case-insensitive."""
    if host is None:
        return False
    return fnmatch.fnmatchcase(host.lower(), pattern)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_window(window: TimeWindow, at: datetime, tz: ZoneInfo) -> bool:
    local = at.astimezone(tz)
    if window.days is not None and WEEKDAYS[local.weekday()] not in window.days:
        return False
    if window.start is None or window.end is None:
        return True
    now = local.time().replace(tzinfo=None)
    start, end = _clock(window.start), _clock(window.end)
    if start < end:
        return start <= now < end
    return now >= start or now < end  # runs past midnight


def static_match(when: Conditions, facts: Facts, tz: ZoneInfo) -> bool:
    """All conditions except the per-period count (which needs the history); stops
    at the first that fails, cheapest first."""
    amount = facts.amount
    if when.amount_at_most is not None and amount > when.amount_at_most:
        return False
    if when.amount_at_least is not None and amount < when.amount_at_least:
        return False
    if when.agents is not None and facts.agent not in when.agents:
        return False
    if when.credential_types is not None and facts.credential_type not in when.credential_types:
        return False
    if when.currencies is not None and facts.currency.lower() not in when.currencies:
        return False
    if when.line_items_at_most is not None and facts.line_items > when.line_items_at_most:
        return False
    if when.line_items_at_least is not None and facts.line_items < when.line_items_at_least:
        return False
    if when.known_merchant is not None and facts.known_merchant != when.known_merchant:
        return False
    if when.merchants is not None and not any(
        domain_matches(p, facts.merchant) for p in when.merchants
    ):
        return False
    if when.not_merchants is not None and any(
        domain_matches(p, facts.merchant) for p in when.not_merchants
    ):
        return False
    return when.time is None or in_window(when.time, facts.at, tz)


def evaluate(rules: Sequence[Rule], facts: Facts, *, tz: ZoneInfo, count: Counter) -> Decision:
    """The first rule whose conditions all hold decides; the history is asked only
    for a rule whose other conditions already hold."""
    from linkpay.wallet.policy.words import describe_rule  # words imports rules

    for position, rule in enumerate(rules, start=1):
        if not static_match(rule.when, facts, tz):
            continue
        cap = rule.when.count
        if cap is not None and count(rule, cap, facts) >= cap.max:
            continue
        return Decision(
            action=rule.action,
            rule=rule.id,
            reason=f"Rule {position}: {describe_rule(rule)}",
            approvers_required=rule.approvers_required or 1,
            deny_ends=rule.deny_ends,
        )
    return Decision(action="require_approval", rule=None, reason=DEFAULT_REASON)


def parse_rules(raw: Sequence[object]) -> list[Rule]:
    """Validate a whole ordered list (ids unique, at most MAX_RULES)."""
    rules = [Rule.model_validate(item) for item in raw]
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} rules")
    ids = [rule.id for rule in rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule ids must be unique")
    return rules
