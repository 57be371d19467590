"""Card charges on the test network (`POST /v1/test_network/card_charges`).

A merchant submits the card (number, expiry, CVC) and the amount. The network checks
what only a card network sees (the number, the printed expiry and CVC), then asks the
same authorization decision that answers Stripe and Lithic (`wallet/decide`): unused,
unexpired, its spend request still approved as issued, wallet not paused, same currency,
amount ≤ the approved amount, and the charging merchant (its registered name and URL)
matches the approved merchant under the documented rule in `decide/merchant.py`. The
decision and its reason are recorded like any issuer's.

Decline codes (Stripe's names where one fits) and what they do to the spend request:

| decline_code                 | when                                     | effect           |
|------------------------------|------------------------------------------|------------------|
| invalid_number               | number fails the Luhn check              | none (no card)   |
| invalid_account              | no card with this number                 | none (no card)   |
| card_already_used            | the card was charged before              | none             |
| revocation_of_authorization  | voided (canceled, paused) or the request | none             |
|                              | changed/left `approved`                  |                  |
| expired_card                 | past `valid_until` or expiry date passed | request → expired|
| invalid_expiry_month / _year | expiry differs from the card's           | counts as a miss |
| incorrect_cvc                | CVC differs                              | counts as a miss |
| currency_not_supported       | other currency than approved             | none             |
| merchant_mismatch            | charging merchant is not the request's   | none             |
| insufficient_funds           | amount above the approved amount         | none             |

Why most declines leave the card alive: they are the merchant's mistake (a wrong total,
a typo) and the person's approval still stands, so the agent can retry at the right
merchant and amount. Two things end it: success (card used, request `succeeded`), and
`MAX_VERIFICATION_MISSES` wrong CVC/expiry attempts (card voided, request `failed` with
the last decline) so nobody can guess a CVC in 1,000 tries.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linkpay import wire
from linkpay.cards import luhn_valid
from linkpay.wallet.crypto import VaultError, fingerprint, normalize_card_number
from linkpay.wallet.decide import AuthorizationAsk, decide, record
from linkpay.wallet.issuing.base import CardSecrets
from linkpay.wallet.issuing.service import vault_for
from linkpay.wallet.network.settlement import (
    Attempt,
    Decline,
    new_attempt,
    settle_decline,
    settle_success,
)
from linkpay.wallet.spend.windows import expire_if_due
from linkpay.wallet.store.models import Charge, Credential, Merchant, SpendRequest

MAX_VERIFICATION_MISSES = 3
# The request left `approved` between our reads of the card and of the request (another
# charge just won, the clock ran out): answer as if the card showed it already.
_REQUEST_STATUS_DECLINES = {"succeeded": "card_already_used", "expired": "expired_card"}
# The decision's reasons as the network's decline codes (the rest: revocation).
_DECISION_DECLINES = {
    "unknown_card": "invalid_account",
    "card_used": "card_already_used",
    "expired": "expired_card",
    "currency_mismatch": "currency_not_supported",
    "merchant_mismatch": "merchant_mismatch",
    "amount_over_approved": "insufficient_funds",
}
_VERIFICATION_CODES = ("incorrect_cvc", "invalid_expiry_month", "invalid_expiry_year")

_MESSAGES = {
    "invalid_number": "Your card number is incorrect.",
    "invalid_account": "The card number is not a card issued by this network.",
    "card_already_used": "This one-time card has already been used.",
    "revocation_of_authorization": "The person no longer authorizes this card.",
    "expired_card": "Your card has expired.",
    "invalid_expiry_month": "Your card's expiration month is incorrect.",
    "invalid_expiry_year": "Your card's expiration year is incorrect.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "currency_not_supported": "The card does not support this currency.",
    "merchant_mismatch": "This card is locked to another merchant.",
    "insufficient_funds": "The amount is above what the person approved for this card.",
}


def _decline(code: str, *, burn: bool = False) -> Decline:
    return Decline(decline_code=code, message=_MESSAGES[code], burn=burn)


def charge_card(
    session: Session, merchant: Merchant, body: wire.CardChargeRequest, *, settings: Any
) -> wire.CardCharge | tuple[wire.CardCharge, Decline]:
    """Run one card charge in the caller's transaction. Returns the succeeded charge,
    or `(failed charge, decline)`."""
    attempt = new_attempt(
        "card",
        merchant,
        amount=body.amount,
        currency=body.currency,
        metadata={"description": body.description} if body.description else {},
    )
    number = normalize_card_number(body.number)
    decline = _find_card(session, attempt, number, settings)
    if decline is None:
        decline = _check_card(session, attempt, body, settings)
    if decline is None and settle_success(session, attempt):
        return _charge_object(attempt, number, None)
    if decline is None:  # lost the race to another charge, a cancel or the clock
        decline = _after_lost_race(session, attempt)
    settle_decline(session, attempt, decline)
    return _charge_object(attempt, number, decline), decline


def _find_card(session: Session, attempt: Attempt, number: str, settings: Any) -> Decline | None:
    if not luhn_valid(number):
        return _decline("invalid_number")
    credential = session.scalars(
        select(Credential).where(
            Credential.number_fingerprint == fingerprint(settings.pepper, number),
            Credential.kind == "card",
        )
    ).first()
    request = session.get(SpendRequest, credential.spend_request_id) if credential else None
    if credential is None or request is None:
        return _decline("invalid_account")
    attempt.credential, attempt.spend_request = credential, request
    return None


def _check_card(
    session: Session, attempt: Attempt, body: wire.CardChargeRequest, settings: Any
) -> Decline | None:
    credential, request = attempt.credential, attempt.spend_request
    assert credential is not None and request is not None
    status = _card_status_decline(session, attempt)
    if status is not None:
        return status
    if (body.exp_year, body.exp_month) < (attempt.now.year, attempt.now.month):
        return _decline("expired_card")
    try:
        secrets = CardSecrets.from_dict(
            vault_for(settings).decrypt(credential.id, credential.secret_ciphertext or "")
        )
    except VaultError:
        return _decline("revocation_of_authorization")
    miss = None
    if body.exp_year != secrets.exp_year:
        miss = "invalid_expiry_year"
    elif body.exp_month != secrets.exp_month:
        miss = "invalid_expiry_month"
    elif not hmac.compare_digest(body.cvc.encode(), secrets.cvc.encode()):
        miss = "incorrect_cvc"
    if miss is not None:
        return _decline(
            miss, burn=_misses_so_far(session, credential.id) + 1 >= MAX_VERIFICATION_MISSES
        )
    ask = AuthorizationAsk(
        issuer=credential.issuer,
        card_ref=credential.issuer_ref or credential.id,
        amount=body.amount,
        currency=body.currency,
        merchant_name=attempt.merchant.name,
        merchant_url=attempt.merchant.url,
        authorization_ref=attempt.charge_id,
    )
    decision = decide(session, ask, attempt.now)
    record(session, ask, decision, attempt.now)
    if decision.approved:
        return None
    if decision.reason == "request_not_approved":
        code = _REQUEST_STATUS_DECLINES.get(request.status, "revocation_of_authorization")
        return _decline(code)
    return _decline(_DECISION_DECLINES.get(decision.reason, "revocation_of_authorization"))


def _card_status_decline(session: Session, attempt: Attempt) -> Decline | None:
    """Declines that follow from the card's life cycle alone."""
    credential, request = attempt.credential, attempt.spend_request
    assert credential is not None and request is not None
    if credential.status == "used":
        return _decline("card_already_used")
    if credential.status == "active" and credential.valid_until <= attempt.now:
        expire_if_due(session, request, attempt.now)
        _expire_credential(session, credential)
        return _decline("expired_card")
    if credential.status == "expired" or credential.valid_until <= attempt.now:
        return _decline("expired_card")
    if credential.status != "active":
        return _decline("revocation_of_authorization")
    return None


def _expire_credential(session: Session, credential: Credential) -> None:
    session.execute(
        update(Credential)
        .where(Credential.id == credential.id, Credential.status == "active")
        .values(status="expired", secret_ciphertext=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(credential)


def _misses_so_far(session: Session, credential_id: str) -> int:
    return int(
        session.scalar(
            select(func.count(Charge.id)).where(
                Charge.credential_id == credential_id,
                Charge.decline_code.in_(_VERIFICATION_CODES),
            )
        )
        or 0
    )


def _after_lost_race(session: Session, attempt: Attempt) -> Decline:
    credential = attempt.credential
    assert credential is not None
    session.refresh(credential)
    if credential.status == "used":
        return _decline("card_already_used")
    if credential.status == "expired" or credential.valid_until <= attempt.now:
        return _decline("expired_card")
    return _decline("revocation_of_authorization")


def _charge_object(attempt: Attempt, number: str, decline: Decline | None) -> wire.CardCharge:
    return wire.CardCharge(
        id=attempt.charge_id,
        status="failed" if decline else "succeeded",
        amount=attempt.amount,
        currency=attempt.currency,
        decline_code=decline.decline_code if decline else None,
        failure_message=decline.message if decline else None,
        spend_request_id=attempt.spend_request.id
        if attempt.spend_request and not decline
        else None,
        card_last4=number[-4:] if number else None,
        created=int(attempt.now.timestamp()),
    )
