"""A refusal by a limit, budget or rule: the code names what refused, and
`retry_after` says when a time-based one frees up. Services turn it into the API's
4xx (`as_api_error`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Refusal:
    status: int  # the HTTP status: 400 never fits, 403 a rule, 409 count, 429 time-based
    code: str  # names the limit: daily_limit_exceeded, budget_exceeded, …
    message: str
    retry_after: int | None = None  # seconds, when waiting helps
    details: dict[str, Any] = field(default_factory=dict)

    def body_extra(self) -> dict[str, Any]:
        extra = dict(self.details)
        if self.retry_after is not None:
            extra["retry_after"] = self.retry_after
        return extra
