"""How facts are shown to a person: dates and hosts (money is `linkpay.money`, outside
text `linkpay.text`)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from linkpay.text import clean_text


def format_when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def minutes_left(value: datetime | None, now: datetime | None = None) -> int | None:
    if value is None:
        return None
    now = now or datetime.now(UTC)
    seconds = (value - now).total_seconds()
    return max(0, int(seconds // 60))


def domain_of(url: str | None) -> str | None:
    """The host a person should check, in ASCII (IDNA) so look-alike letters show."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return clean_text(host)
