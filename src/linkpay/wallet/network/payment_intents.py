"""Shared payment token redemption: the `POST /v1/payment_intents` subset MPP merchants
send (Stripe's form encoding: `amount`, `currency`, `shared_payment_granted_token`,
`confirm=true`, `metadata[…]`, `payment_method_types[…]`, `description`; other Stripe
parameters such as `customer` or `hooks[…]` are accepted and ignored).

A token redeems once, ever: it must be active, unexpired, issued for the charging
merchant's `network_id`, for the same currency and at most the approved amount, and its
spend request must still be approved as issued.

Errors are Stripe-shaped: 400 `invalid_request_error` for a malformed call or an
unknown token (`resource_missing`, param `shared_payment_granted_token`); 402
`card_error` / `card_declined` with a `decline_code` for a refused token:

| decline_code                | when                                         | token/request    |
|-----------------------------|----------------------------------------------|------------------|
| token_already_used          | redeemed (or burned) before                  | unchanged        |
| revocation_of_authorization | voided (cancel, pause) or request changed    | unchanged        |
| token_expired               | past `valid_until`                           | request expired  |
| merchant_mismatch           | issued for another network_id                | burned → failed  |
| currency_not_supported      | other currency than approved                 | burned → failed  |
| amount_too_large            | amount above the approved amount             | burned → failed  |

Burning on a refused redemption follows MPP (spec/mpp.md): an SPT sent once is spent,
so after any failure the agent needs a new spend request; a token shown to the wrong
merchant is also better dead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.binding import material_hash
from linkpay.wallet.errors import CardNetworkError
from linkpay.wallet.network.settlement import (
    Attempt,
    Decline,
    new_attempt,
    settle_decline,
    settle_success,
)
from linkpay.wallet.spend.windows import expire_if_due
from linkpay.wallet.store.models import Charge, Credential, Merchant, SpendRequest

_MAX_AMOUNT = 99_999_999
_METADATA_KEY = re.compile(r"^metadata\[(?P<key>[^\]]*)\]$")
_LIST_KEY = re.compile(r"^payment_method_types\[\d*\]$")

_MESSAGES = {
    "token_already_used": "This shared payment token has already been redeemed.",
    "revocation_of_authorization": "The person no longer authorizes this payment.",
    "token_expired": "This shared payment token has expired.",
    "merchant_mismatch": "This shared payment token was issued for another merchant.",
    "currency_not_supported": "The currency differs from the one the person approved.",
    "amount_too_large": "The amount is above what the person approved.",
}


class InvalidRequest(CardNetworkError):
    """A malformed call: 400 `invalid_request_error`."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(400, "invalid_request_error", code, message, param=param)


@dataclass
class PaymentIntentParams:
    amount: int
    currency: str
    token: str
    metadata: dict[str, str] = field(default_factory=dict)
    payment_method_types: list[str] = field(default_factory=list)
    description: str | None = None


def parse_params(items: list[tuple[str, str]]) -> PaymentIntentParams:
    """Read the form fields; raises `InvalidRequest` naming the bad parameter."""
    single: dict[str, str] = {}
    metadata: dict[str, str] = {}
    types: list[str] = []
    for name, value in items:
        if match := _METADATA_KEY.match(name):
            key = match.group("key")
            if not key or len(key) > 40:
                raise InvalidRequest(
                    "parameter_invalid", "metadata keys must be 1-40 characters", name
                )
            if len(value) > 500:
                raise InvalidRequest(
                    "parameter_invalid", "metadata values must be ≤ 500 characters", name
                )
            metadata[key] = value
        elif _LIST_KEY.match(name) or name == "payment_method_types":
            types.append(value)
        else:
            single[name] = value
    if len(metadata) > 50:
        raise InvalidRequest("parameter_invalid", "metadata may hold at most 50 keys", "metadata")
    for required in ("amount", "currency", "shared_payment_granted_token"):
        if not single.get(required, "").strip():
            raise InvalidRequest(
                "parameter_missing", f"Missing required param: {required}.", required
            )
    raw_amount = single["amount"].strip()
    if not raw_amount.isdigit() or not 0 < int(raw_amount) <= _MAX_AMOUNT:
        raise InvalidRequest(
            "parameter_invalid_integer",
            "amount must be a positive integer in the currency's minor unit.",
            "amount",
        )
    currency = single["currency"].strip().lower()
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise InvalidRequest(
            "parameter_invalid", "currency must be a 3-letter ISO code.", "currency"
        )
    if single.get("confirm", "").strip().lower() != "true":
        raise InvalidRequest(
            "parameter_invalid",
            "Only confirm=true is supported: the token is redeemed in the same call.",
            "confirm",
        )
    description = single.get("description")
    return PaymentIntentParams(
        amount=int(raw_amount),
        currency=currency,
        token=single["shared_payment_granted_token"].strip(),
        metadata=metadata,
        payment_method_types=types,
        description=description[:1000] if description else None,
    )


def _decline(code: str, *, burn: bool = False) -> Decline:
    return Decline(decline_code=code, message=_MESSAGES[code], burn=burn)


def create_payment_intent(
    session: Session, merchant: Merchant, params: PaymentIntentParams
) -> tuple[int, dict[str, Any]]:
    """Redeem the token in the caller's transaction → (HTTP status, JSON body)."""
    attempt = new_attempt(
        "shared_payment_token",
        merchant,
        amount=params.amount,
        currency=params.currency,
        metadata=params.metadata,
    )
    credential = session.scalars(
        select(Credential).where(
            Credential.id == params.token, Credential.kind == "shared_payment_token"
        )
    ).first()
    request = session.get(SpendRequest, credential.spend_request_id) if credential else None
    if credential is None or request is None:
        raise InvalidRequest(
            "resource_missing",
            "No such shared_payment_granted_token.",
            "shared_payment_granted_token",
        )
    attempt.credential, attempt.spend_request = credential, request
    decline = _check_token(session, attempt)
    if decline is None and settle_success(session, attempt):
        return 200, payment_intent_object(attempt, params, "succeeded")
    if decline is None:
        session.refresh(credential)
        decline = _decline(
            "token_already_used" if credential.status == "used" else "revocation_of_authorization"
        )
    settle_decline(session, attempt, decline)
    intent = payment_intent_object(attempt, params, "requires_payment_method")
    intent["last_payment_error"] = _error_fields(decline)
    return 402, {"error": {**_error_fields(decline), "payment_intent": intent}}


def _check_token(session: Session, attempt: Attempt) -> Decline | None:
    credential, request = attempt.credential, attempt.spend_request
    assert credential is not None and request is not None
    if credential.status == "used":
        return _decline("token_already_used")
    if credential.status == "active" and credential.valid_until <= attempt.now:
        expire_if_due(session, request, attempt.now)
        return _decline("token_expired")
    if credential.status == "expired" or credential.valid_until <= attempt.now:
        return _decline("token_expired")
    if credential.status != "active":
        return _decline("revocation_of_authorization")
    if credential.network_id != attempt.merchant.network_id:
        return _decline("merchant_mismatch", burn=True)
    if request.status != "approved":
        # It left `approved` between our two reads (a parallel redemption just won).
        code = {
            "succeeded": "token_already_used",
            "failed": "token_already_used",
            "expired": "token_expired",
        }.get(request.status, "revocation_of_authorization")
        return _decline(code)
    if request.approval_hash != credential.approval_hash:
        return _decline("revocation_of_authorization")
    if material_hash(request) != credential.approval_hash:
        return _decline("revocation_of_authorization")
    if attempt.currency != credential.currency:
        return _decline("currency_not_supported", burn=True)
    if attempt.amount > credential.max_amount:
        return _decline("amount_too_large", burn=True)
    return None


def _error_fields(decline: Decline) -> dict[str, Any]:
    return {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": decline.decline_code,
        "message": decline.message,
        "param": "shared_payment_granted_token",
    }


def payment_intent_object(
    attempt: Attempt, params: PaymentIntentParams, status: str
) -> dict[str, Any]:
    succeeded = status == "succeeded"
    return {
        "id": attempt.charge_id,
        "object": "payment_intent",
        "status": status,
        "amount": attempt.amount,
        "amount_received": attempt.amount if succeeded else 0,
        "currency": attempt.currency,
        "created": int(attempt.now.timestamp()),
        "metadata": dict(params.metadata),
        "description": params.description,
        "payment_method_types": params.payment_method_types or ["card"],
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "livemode": False,
        "shared_payment_granted_token": params.token,
    }


def retrieve_payment_intent(
    session: Session, merchant: Merchant, intent_id: str
) -> dict[str, Any] | None:
    """A merchant's own payment intent (from its charge record), or None."""
    charge = session.scalars(
        select(Charge).where(
            Charge.id == intent_id,
            Charge.merchant_id == merchant.id,
            Charge.kind == "shared_payment_token",
        )
    ).first()
    if charge is None:
        return None
    succeeded = charge.status == "succeeded"
    return {
        "id": charge.id,
        "object": "payment_intent",
        "status": "succeeded" if succeeded else "requires_payment_method",
        "amount": charge.amount,
        "amount_received": charge.amount if succeeded else 0,
        "currency": charge.currency,
        "created": int(charge.created_at.timestamp()),
        "metadata": dict(charge.charge_metadata or {}),
        "livemode": False,
        "shared_payment_granted_token": charge.credential_id,
    }
