"""The stripe/charge request: validation and challenge selection (no pympp inside).

Rules are a superset of link-cli's: `amount` a string of ASCII digits,
no leading zeros, above 0; `currency` three lower-case letters; `methodDetails.networkId`
a non-empty string (a legacy top-level `networkId` is accepted and flagged);
`paymentMethodTypes` a list of strings. Errors name the field the way link-cli does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from linkpay.mpp.errors import (
    ChallengeParseError,
    InvalidStripeRequestError,
    NoStripeChallengeError,
)
from linkpay.mpp.wire import Challenge, ParsedChallenge

_STRIPE_PARAM_RE = re.compile(r'(?:^|[\s,])method\s*=\s*"?stripe"?(?:[\s,]|$)', re.IGNORECASE)
_AMOUNT_RE = re.compile(r"^(0|[1-9][0-9]*)$")
_CURRENCY_RE = re.compile(r"^[a-z]{3}$")


@dataclass(frozen=True)
class StripeCharge:
    """A validated stripe challenge request (amount in minor units)."""

    amount: int
    currency: str
    network_id: str
    payment_method_types: list[str] = field(default_factory=list)
    description: str | None = None
    external_id: str | None = None
    legacy_network_id: bool = False


def validate_stripe_request(request: Any) -> StripeCharge:
    """Check a stripe challenge request; errors name the field (link-cli's wording)."""

    def fail(path: str, problem: str) -> InvalidStripeRequestError:
        return InvalidStripeRequestError(f"Invalid stripe challenge request: {path}: {problem}")

    if not isinstance(request, dict):
        raise fail("request", "expected object")
    amount = request.get("amount")
    if amount is None:
        raise fail("amount", "missing")
    if not isinstance(amount, str):
        raise fail("amount", f"expected string, received {_json_type(amount)}")
    if not _AMOUNT_RE.fullmatch(amount):
        raise fail("amount", "expected a string of digits without leading zeros (minor units)")
    if int(amount) <= 0:
        raise fail("amount", "must be greater than 0")
    currency = request.get("currency")
    if currency is None:
        raise fail("currency", "missing")
    if not isinstance(currency, str):
        raise fail("currency", f"expected string, received {_json_type(currency)}")
    if not _CURRENCY_RE.fullmatch(currency):
        raise fail("currency", "expected a lower-case 3-letter ISO 4217 code")
    details = request.get("methodDetails")
    if details is not None and not isinstance(details, dict):
        raise fail("methodDetails", f"expected object, received {_json_type(details)}")
    details = details or {}
    legacy = False
    network_id = details.get("networkId")
    if network_id is None and "networkId" in request:
        network_id, legacy = request.get("networkId"), True
    if network_id is None:
        raise fail("methodDetails.networkId", "missing")
    if not isinstance(network_id, str) or not network_id:
        raise fail("methodDetails.networkId", "expected a non-empty string")
    types = details.get("paymentMethodTypes", request.get("paymentMethodTypes") or [])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise fail("methodDetails.paymentMethodTypes", "expected a list of strings")
    description = request.get("description")
    external_id = request.get("externalId")
    return StripeCharge(
        amount=int(amount),
        currency=currency,
        network_id=network_id,
        payment_method_types=list(types),
        description=description if isinstance(description, str) else None,
        external_id=external_id if isinstance(external_id, str) else None,
        legacy_network_id=legacy,
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return type(value).__name__


def select_stripe(
    parsed: list[ParsedChallenge], intents: tuple[str, ...] = ("charge",)
) -> tuple[Challenge, StripeCharge]:
    """The first valid stripe challenge with one of `intents`, in header order.

    Invalid stripe challenges are skipped when a later one is valid; when none is, the
    first one's error is raised so the message names the real problem.
    """
    first_error: Exception | None = None
    for item in parsed:
        if item.challenge is None:
            if first_error is None and _STRIPE_PARAM_RE.search(item.raw):
                first_error = ChallengeParseError(f"Invalid Payment challenge: {item.error}")
            continue
        ch = item.challenge
        if ch.method != "stripe" or ch.intent not in intents:
            continue
        try:
            return ch, validate_stripe_request(ch.request)
        except InvalidStripeRequestError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    wanted = " or ".join(intents)
    broken = [p.error for p in parsed if p.error]
    hint = (
        f" ({len(broken)} Payment challenge(s) could not be parsed: {broken[0]})" if broken else ""
    )
    raise NoStripeChallengeError(
        f"WWW-Authenticate header does not include a stripe {wanted} challenge{hint}"
    )
