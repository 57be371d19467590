"""Calendar periods in the person's time zone (budgets, "at most 3 a day") and
rolling windows (Link's daily and 30-day limits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Period = Literal["hour", "day", "week", "month"]
PERIODS: tuple[Period, ...] = ("hour", "day", "week", "month")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, UTC when empty; a bad name is a ValueError."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def period_bounds(period: Period, at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the calendar `period` holding `at`, as aware datetimes. Weeks
    start on Monday. Computed on the local wall clock, so a day is a local day; the
    bounds come back in UTC."""
    local = at.astimezone(tz)
    if period == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
        end_naive = start.replace(tzinfo=None) + timedelta(hours=1)
    elif period == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end_naive = start.replace(tzinfo=None) + timedelta(days=1)
    elif period == "week":
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day - timedelta(days=local.weekday())
        end_naive = start.replace(tzinfo=None) + timedelta(days=7)
    elif period == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if start.month == 12:
            end_naive = start.replace(year=start.year + 1, month=1, tzinfo=None)
        else:
            end_naive = start.replace(month=start.month + 1, tzinfo=None)
    else:  # pragma: no cover - guarded by the Literal
        raise ValueError(f"unknown period {period!r}")
    # Re-localize both ends so a DST change inside the period gives the real instants.
    # Returned in UTC: arithmetic on two datetimes sharing a zone ignores DST shifts.
    start = start.replace(tzinfo=None).replace(tzinfo=tz)
    end = end_naive.replace(tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from `now` to `moment`, at least 1 (a Retry-After value)."""
    return max(1, int((moment - now).total_seconds() + 0.999))


def rolling_free_at(
    entries: list[tuple[datetime, int]], window: timedelta, limit: int, need: int, now: datetime
) -> datetime | None:
    """When `need` more fits under `limit` in a rolling `window`, given the `(at,
    amount)` entries still inside it. None when it never will (need > limit)."""
    if need > limit:
        return None
    inside = sorted((at, amount) for at, amount in entries if at > now - window)
    used = sum(amount for _at, amount in inside)
    if used + need <= limit:
        return now
    for at, amount in inside:
        used -= amount
        if used + need <= limit:
            return at + window
    return now  # pragma: no cover - unreachable: all aged out means used == 0
