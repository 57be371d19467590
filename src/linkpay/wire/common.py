"""Shapes shared by every part of the agent API: the error body."""

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# `include=` values a retrieve accepts (credentials are only added once approved).
Expandable = Literal["card", "shared_payment_token"]


class ApiError(BaseModel):
    """`{"error": {...}}` payload. `code` comes from a small documented set:
    invalid_request, authentication_required, not_found, invalid_state,
    spend_request_rate_limited, idempotency_key_reused, idempotency_key_in_use,
    forbidden, rate_limited, card_declined. `param` names the offending field on 400s."""

    model_config = ConfigDict(extra="allow")

    message: str
    code: str
    param: str | None = None


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    error: ApiError


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> tuple[str | None, str]:
    """Turn pydantic's `errors()` into `(param, message)` naming the field.

    Field errors carry their location; model-level rules (in `spend_requests.py`) put the
    field name before a colon in their message (`"network_id: required for …"`). Input
    values are never echoed, so a secret typed into the wrong field is not repeated.
    """
    if not errors:
        return None, "invalid request"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    message = str(first.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    param = ".".join(loc) if loc else None
    if param is None and ": " in message:
        head, rest = message.split(": ", 1)
        if head.replace("_", "").isalnum():
            param, message = head, rest
    text = f"{param}: {message}" if param else message
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return param, text
