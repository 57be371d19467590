"""Wire models of the person's rules as agents see them: the `decision` on a spend
request and the answer of the dry run (`POST /spend_requests/check`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Decision(BaseModel):
    """Who decided a spend request (the person, or the policy under one of their
    rules), which rule applied, and why, in words the person wrote the rule in."""

    model_config = ConfigDict(extra="allow")

    by: Literal["person", "policy"]
    rule: str | None = None
    reason: str


class Refusal(BaseModel):
    """A limit, budget or rule that refuses the request; `retry_after` (seconds)
    when waiting frees it up."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    retry_after: int | None = None


class LimitFigure(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str  # per_request | per_day | per_30_days | max_active | …
    limit: int
    remaining: int
    currency: str | None = None  # money limits only
    description: str


class BudgetFigure(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    period: Literal["day", "week", "month"]
    scope: Literal["wallet", "agent", "merchant"]
    target: str | None = None
    amount: int
    used: int
    remaining: int
    currency: str
    resets_at: int  # unix seconds
    applies: bool | None = None  # dry run: does it apply to the checked request?
    description: str


class SpendRequestCheck(BaseModel):
    """What `create` would do with the same body, without doing it."""

    model_config = ConfigDict(extra="allow")

    object: Literal["spend_request_check"] = "spend_request_check"
    outcome: Literal["auto_approve", "require_approval", "deny", "refused"]
    rule: str | None = None
    reason: str
    approvers_required: int = 1
    refusal: Refusal | None = None
    limits: list[LimitFigure] = Field(default_factory=list)
    budgets: list[BudgetFigure] = Field(default_factory=list)
