"""Link's limits: per request, per day, per 30 days, how many requests may be active
or approved-but-unused, and how fast one agent may create them. The person adjusts
each within the operator's maximum (settings `policy_max_<limit>`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from linkpay.wallet.policy.periods import rolling_free_at, seconds_until
from linkpay.wallet.policy.refusal import Refusal
from linkpay.wallet.policy.words import money

DAY = timedelta(days=1)
THIRTY_DAYS = timedelta(days=30)
HOUR = timedelta(hours=1)
SIXTY_DAYS = timedelta(days=60)


@dataclass(frozen=True)
class Limits:
    per_request: int = 50_000  # cents
    per_day: int = 50_000  # cents, rolling 24 hours
    per_30_days: int = 2_000_000  # cents, rolling 30 days
    max_active: int = 30  # created + pending_approval + approved
    max_approved_unused: int = 10
    creates_per_hour: int = 50  # per agent
    creates_per_60_days: int = 200  # per agent

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


LIMIT_NAMES = tuple(f.name for f in fields(Limits))
LINK_DEFAULTS = Limits()
# What an operator allows unless their settings say otherwise. The per-request ceiling
# is the wire's own maximum ($500), which clients check before any call.
DEFAULT_MAXIMUMS = Limits(
    per_request=50_000,
    per_day=1_000_000,
    per_30_days=10_000_000,
    max_active=200,
    max_approved_unused=200,
    creates_per_hour=500,
    creates_per_60_days=5_000,
)
LABELS = {
    "per_request": "per request",
    "per_day": "per day (rolling 24 hours)",
    "per_30_days": "per 30 days (rolling)",
    "max_active": "active requests at once",
    "max_approved_unused": "approved but not yet used",
    "creates_per_hour": "new requests per agent per hour",
    "creates_per_60_days": "new requests per agent per 60 days",
}
MONEY_LIMITS = frozenset({"per_request", "per_day", "per_30_days"})


def operator_maximums(settings: Any) -> Limits:
    """The operator's ceilings: `settings.policy_max_<name>` where set."""
    values = {
        name: int(getattr(settings, f"policy_max_{name}", None) or getattr(DEFAULT_MAXIMUMS, name))
        for name in LIMIT_NAMES
    }
    return Limits(**values)


def adjusted(current: Limits, changes: dict[str, int], maximum: Limits) -> Limits:
    """`current` with the person's `changes`, each a whole number between 1 (0 for
    money) and the operator's maximum; ValueError naming the first one out of range."""
    for name, value in changes.items():
        if name not in LIMIT_NAMES:
            raise ValueError(f"unknown limit {name!r}")
        ceiling = getattr(maximum, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > ceiling:
            shown = money(ceiling) if name in MONEY_LIMITS else str(ceiling)
            raise ValueError(f"{name} must be between 1 and {shown} (the operator's maximum)")
    return replace(current, **changes)


def loosened(old: Limits, new: Limits) -> list[str]:
    """The limits `new` raises: those changes need a fresh confirmation."""
    return [name for name in LIMIT_NAMES if getattr(new, name) > getattr(old, name)]


def count_headroom(limits: Limits, active: int, creates_hour: int, creates_60_days: int) -> int:
    """How many more creates fit the count limits a create checks (the approved-unused
    count is checked at approval, under the wallet lock, so it is not among them)."""
    return min(
        limits.max_active - active,
        limits.creates_per_hour - creates_hour,
        limits.creates_per_60_days - creates_60_days,
    )


def describe_limit(name: str, value: int) -> str:
    shown = money(value) if name in MONEY_LIMITS else str(value)
    return f"{shown} {LABELS[name]}"


@dataclass
class Usage:
    """What counts against the limits right now. The `*_entries` callables give the
    (at, amount) or creation times inside a window, asked only to compute when a
    refused request would fit (`retry_after`)."""

    day_total: int
    month_total: int
    active: int
    approved_unused: int
    agent_creates_hour: int
    agent_creates_60_days: int
    amount_entries: Callable[[timedelta], list[tuple[datetime, int]]]
    create_times: Callable[[timedelta], list[datetime]]

    @property
    def counts(self) -> tuple[int, int, int, int]:
        """As `usage.counts` reads them: active, approved-unused, creates hour, 60 days."""
        return (
            self.active,
            self.approved_unused,
            self.agent_creates_hour,
            self.agent_creates_60_days,
        )


def _amount_refusal(
    name: str,
    code: str,
    limit: int,
    used: int,
    amount: int,
    window: timedelta,
    usage: Usage,
    now: datetime,
) -> Refusal | None:
    if used + amount <= limit:
        return None
    free_at = rolling_free_at(usage.amount_entries(window), window, limit, amount, now)
    return Refusal(
        429 if free_at is not None else 400,
        code,
        f"{money(amount)} would pass the limit of {describe_limit(name, limit)}: "
        f"{money(max(0, limit - used))} left",
        retry_after=seconds_until(free_at, now) if free_at is not None else None,
        details={"limit": name, "limit_amount": limit, "remaining": max(0, limit - used)},
    )


def _rate_refusal(
    name: str, code: str, limit: int, count: int, window: timedelta, usage: Usage, now: datetime
) -> Refusal | None:
    if count < limit:
        return None
    times = sorted(usage.create_times(window))
    oldest = times[len(times) - limit] if len(times) >= limit else now
    return Refusal(
        429,
        code,
        f"This agent reached {describe_limit(name, limit)}",
        retry_after=seconds_until(oldest + window, now),
        details={"limit": name, "limit_count": limit},
    )


def check_create(limits: Limits, usage: Usage, amount: int, now: datetime) -> Refusal | None:
    """Limits a new request must pass whatever the rules say."""
    if amount > limits.per_request:
        return Refusal(
            400,
            "per_request_limit_exceeded",
            f"{money(amount)} is over the person's limit of {money(limits.per_request)} per "
            "spend request",
            details={"limit": "per_request", "limit_amount": limits.per_request, "param": "amount"},
        )
    if usage.active >= limits.max_active:
        return Refusal(
            409,
            "active_requests_limit_reached",
            f"The person already has {usage.active} active spend requests (limit "
            f"{limits.max_active}); finish or cancel one first",
            details={"limit": "max_active", "limit_count": limits.max_active},
        )
    return _rate_refusal(
        "creates_per_hour",
        "agent_hourly_create_limit_reached",
        limits.creates_per_hour,
        usage.agent_creates_hour,
        HOUR,
        usage,
        now,
    ) or _rate_refusal(
        "creates_per_60_days",
        "agent_60_day_create_limit_reached",
        limits.creates_per_60_days,
        usage.agent_creates_60_days,
        SIXTY_DAYS,
        usage,
        now,
    )


def check_reserve(limits: Limits, usage: Usage, amount: int, now: datetime) -> Refusal | None:
    """Limits an approval (by the person or a rule) must pass: the money windows and
    the approved-but-unused count."""
    if usage.approved_unused >= limits.max_approved_unused:
        return Refusal(
            409,
            "approved_unused_limit_reached",
            f"{usage.approved_unused} approved spend requests are not used yet (limit "
            f"{limits.max_approved_unused}); use or cancel one first",
            details={"limit": "max_approved_unused", "limit_count": limits.max_approved_unused},
        )
    return _amount_refusal(
        "per_day", "daily_limit_exceeded", limits.per_day, usage.day_total, amount, DAY, usage, now
    ) or _amount_refusal(
        "per_30_days",
        "thirty_day_limit_exceeded",
        limits.per_30_days,
        usage.month_total,
        amount,
        THIRTY_DAYS,
        usage,
        now,
    )
