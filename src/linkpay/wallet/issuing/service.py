"""Credentials for approved spend requests: issue, reveal, hand out SPTs, void.

Rules held here:
- One credential per spend request (`issue_credential` is idempotent; the unique
  `credentials.spend_request_id` column backs it up under races).
- The credential is bound to the approval: it stores the spend request's
  `approval_hash`, and is revealed only while it is `active`, unexpired, the request is
  `approved`, and the request's stored hash and its current material hash both still
  equal it. An edit after approval therefore never gets a card.
- Test cards: the number and CVC are sealed in the vault (`wallet/crypto.py`) at issue
  time and only opened by `reveal_card`, i.e. for an explicit `include=card`. Using,
  voiding or expiring a card shreds the ciphertext (last4, brand and expiry stay).
- Live cards (Stripe, Lithic): the wallet never holds the number or CVC; `reveal_card`
  fetches them from the issuer for that one answer. Voiding also closes the card at
  the issuer (best effort: our records already refuse it, and reconcile retries).

Callers run these inside their own transaction (the spend service calls
`issue_credential` while approving; `void_credentials` while canceling).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkpay import wire
from linkpay.wallet import audit
from linkpay.wallet.binding import material_hash
from linkpay.wallet.crypto import CardVault, fingerprint
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.base import (
    BoundRequest,
    Cardholder,
    CardSecrets,
    HeldCredential,
    IssuedCard,
    Issuer,
    IssuingError,
)
from linkpay.wallet.issuing.connections import (
    issuer_for,
    payment_method_ref,
    remember_cardholder,
    stored_cardholder,
)
from linkpay.wallet.issuing.test_issuer import TestIssuer
from linkpay.wallet.store.models import Credential, ShippingAddress, SpendRequest, User

__all__ = ["IssuingError"]
log = logging.getLogger("linkpay.wallet.issuing")

CARD = "card"
SHARED_PAYMENT_TOKEN = "shared_payment_token"
_NUMBER_ATTEMPTS = 8  # fresh numbers tried when a fingerprint collides (≈ never twice)


def vault_for(settings: Any) -> CardVault:
    return settings.card_vault()


def _now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as the wire models carry times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def credential_for(session: Session, spend_request_id: str) -> Credential | None:
    return session.scalars(
        select(Credential).where(Credential.spend_request_id == spend_request_id)
    ).first()


def _cardholder(session: Session, user_id: str) -> Cardholder:
    """Name from the person; billing address from their profile, else their default
    shipping address (else the test issuer's test address)."""
    user = session.get(User, user_id)
    stored = user.billing_address if user is not None else None
    if not stored:
        address_row = session.scalars(
            select(ShippingAddress)
            .where(ShippingAddress.user_id == user_id)
            .order_by(ShippingAddress.is_default.desc(), ShippingAddress.created_at)
        ).first()
        stored = address_row.address if address_row is not None else None
    billing: dict[str, Any] = {}
    if stored:
        billing = {
            "name": stored.get("name"),
            "line1": stored.get("line_1"),
            "line2": stored.get("line_2"),
            "city": stored.get("locality"),
            "state": stored.get("administrative_area"),
            "postal_code": stored.get("postal_code"),
            "country": stored.get("country_code"),
        }
        if not (billing["line1"] and billing["postal_code"]):
            billing = {}  # an incomplete address would make a worse card than the test one
    name = (user.name if user else None) or billing.get("name")
    billing["name"] = name
    return Cardholder(
        name=name,
        email=user.email if user else None,
        billing_address=billing,
        ref=stored_cardholder(session, user_id),
    )


def _valid_until(row: SpendRequest, settings: Any, now: datetime) -> datetime:
    if row.expires_at is not None:  # an allowed client's own validity (3 h to 7 d)
        return row.expires_at
    return now + timedelta(seconds=int(settings.credential_validity_seconds))


def issue_credential(
    session: Session, spend_request_row: SpendRequest, *, settings: Any
) -> Credential:
    """Issue the one credential of an approved spend request (or return the one it has).

    Needs `spend_request_row.approval_hash` set: the credential is bound to it.
    """
    row = spend_request_row
    existing = credential_for(session, row.id)
    if existing is not None:
        return existing
    if not row.approval_hash:
        raise IssuingError("spend request has no approval_hash; approve it before issuing")
    now = _now()
    valid_until = _valid_until(row, settings, now)
    issuer = issuer_for(session, settings, row.issuer)
    if row.credential_type == SHARED_PAYMENT_TOKEN:
        credential = _new_token_credential(session, row, issuer, valid_until)
    else:
        credential = _new_card_credential(session, row, issuer, settings, valid_until)
    try:
        with session.begin_nested():
            session.add(credential)
    except IntegrityError:
        # Another transaction issued for this request first: use its credential.
        existing = credential_for(session, row.id)
        if existing is None:
            raise IssuingError("could not store the issued credential") from None
        issuer.void(credential.issuer_ref or credential.id)
        return existing
    if row.credential_valid_until is None or row.credential_valid_until > valid_until:
        row.credential_valid_until = valid_until
    return credential


def _new_token_credential(
    session: Session, row: SpendRequest, issuer: Issuer, valid_until: datetime
) -> Credential:
    if not row.network_id:
        raise IssuingError("shared payment token requests need a network_id")
    token = issuer.issue_shared_payment_token(
        spend_request_id=row.id,
        network_id=row.network_id,
        amount=row.amount,
        currency=row.currency,
        valid_until=valid_until,
        idempotency_key=f"{row.id}:shared_payment_token",
        payment_method_ref=payment_method_ref(session, row.user_id, row.payment_method_id),
    )
    return Credential(
        id=token.token_id,
        spend_request_id=row.id,
        user_id=row.user_id,
        kind=SHARED_PAYMENT_TOKEN,
        issuer=issuer.name,
        issuer_ref=token.issuer_ref,
        status="active",
        network_id=row.network_id,
        max_amount=row.amount,
        currency=row.currency,
        approval_hash=row.approval_hash,
        valid_until=valid_until,
    )


def _new_card_credential(
    session: Session, row: SpendRequest, issuer: Issuer, settings: Any, valid_until: datetime
) -> Credential:
    credential_id = new_id("ic")
    cardholder = _cardholder(session, row.user_id)
    for _ in range(_NUMBER_ATTEMPTS):
        card = issuer.issue_card(
            credential_id=credential_id,
            spend_request_id=row.id,
            amount=row.amount,
            currency=row.currency,
            merchant_name=row.merchant_name,
            merchant_url=row.merchant_url,
            cardholder=cardholder,
            valid_until=valid_until,
            idempotency_key=f"{row.id}:card",
        )
        if card.secrets is None:  # a live issuer: it keeps the number, we never do
            return _live_card_credential(session, row, issuer, card, credential_id, valid_until)
        number_fingerprint = fingerprint(settings.pepper, card.secrets.number)
        taken = session.scalar(
            select(exists().where(Credential.number_fingerprint == number_fingerprint))
        )
        if not taken:
            break
        issuer.void(card.issuer_ref)
    else:
        raise IssuingError("could not draw an unused card number")
    return Credential(
        id=credential_id,
        spend_request_id=row.id,
        user_id=row.user_id,
        kind=CARD,
        issuer=issuer.name,
        issuer_ref=card.issuer_ref,
        status="active",
        brand=card.brand,
        last4=card.secrets.last4,
        exp_month=card.secrets.exp_month,
        exp_year=card.secrets.exp_year,
        number_fingerprint=number_fingerprint,
        secret_ciphertext=vault_for(settings).encrypt(credential_id, card.secrets.to_dict()),
        billing_address=card.billing_address,
        max_amount=row.amount,
        currency=row.currency,
        approval_hash=row.approval_hash,
        valid_until=valid_until,
    )


def _live_card_credential(
    session: Session,
    row: SpendRequest,
    issuer: Issuer,
    card: IssuedCard,
    credential_id: str,
    valid_until: datetime,
) -> Credential:
    if card.cardholder_ref:
        remember_cardholder(session, row.user_id, card.cardholder_ref)
    return Credential(
        id=credential_id,
        spend_request_id=row.id,
        user_id=row.user_id,
        kind=CARD,
        issuer=issuer.name,
        issuer_ref=card.issuer_ref,
        status="active",
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        billing_address=card.billing_address,
        max_amount=row.amount,
        currency=row.currency,
        approval_hash=row.approval_hash,
        valid_until=valid_until,
    )


def is_usable(credential: HeldCredential, row: BoundRequest, current: str = "") -> bool:
    """The approval binding: active, unexpired, request approved, hash unchanged.
    `current`: `material_hash(row)` if the caller has it (the costly part of a reveal)."""
    return (
        credential.status == "active"
        and credential.valid_until > _now()
        and row.status == "approved"
        and row.approval_hash is not None
        and credential.approval_hash == row.approval_hash
        and (current or material_hash(row)) == credential.approval_hash
    )


def reveal_card(
    session: Session,
    spend_request_row: BoundRequest,
    *,
    settings: Any,
    credential: HeldCredential | None | Literal["load"] = "load",
    current: str = "",
) -> wire.Card | None:
    """The card's full details, for an explicit `include=card`; None when there is no
    usable card (not issued, used, voided, expired, or the request changed).
    `credential`, `current`: the credential and `material_hash` if the caller has them."""
    row = spend_request_row
    if isinstance(credential, str):  # "load"
        credential = credential_for(session, row.id)
    if credential is None or credential.kind != CARD or not is_usable(credential, row, current):
        return None
    if credential.secret_ciphertext:
        secrets = CardSecrets.from_dict(
            vault_for(settings).decrypt(credential.id, credential.secret_ciphertext)
        )
    else:
        secrets = issuer_for(session, settings, credential.issuer).reveal(
            credential.issuer_ref or credential.id
        )
    _audit_revealed(session, row, credential)
    address = credential.billing_address or {}
    return wire.Card(
        id=credential.id,
        brand=credential.brand or "visa",
        number=secrets.number,
        cvc=secrets.cvc,
        exp_month=secrets.exp_month,
        exp_year=secrets.exp_year,
        billing_address=wire.BillingAddress.model_validate(address) if address else None,
        valid_until=iso(credential.valid_until),
    )


def shared_payment_token(
    session: Session,
    spend_request_row: BoundRequest,
    *,
    credential: HeldCredential | None | Literal["load"] = "load",
    current: str = "",
) -> wire.SharedPaymentToken | None:
    """The SPT for `include=shared_payment_token` while it can still be redeemed."""
    row = spend_request_row
    if isinstance(credential, str):  # "load"
        credential = credential_for(session, row.id)
    if credential is None or credential.kind != SHARED_PAYMENT_TOKEN:
        return None
    if not is_usable(credential, row, current):
        return None
    _audit_revealed(session, row, credential)
    address = credential.billing_address or {}
    return wire.SharedPaymentToken(
        id=credential.id,
        billing_address=wire.BillingAddress.model_validate(address) if address else None,
        valid_until=iso(credential.valid_until),
    )


def _audit_revealed(session: Session, row: BoundRequest, credential: HeldCredential) -> None:
    """The agent received the credential: ids and kind only, never its secrets."""
    audit.record_event(
        session,
        audit.events.CREDENTIAL_REVEALED,
        actor=audit.events.agent(row.token_family_id),
        subject=row.id,
        user_id=row.user_id,
        data={"credential": credential.id, "kind": credential.kind, "last4": credential.last4},
    )


def void_credentials(session: Session, spend_request_id: str) -> None:
    """Void the request's unused credential (cancel, pause) and shred its secrets."""
    voided = session.execute(
        update(Credential)
        .where(Credential.spend_request_id == spend_request_id, Credential.status == "active")
        .values(status="voided", secret_ciphertext=None)
        .returning(Credential.issuer, Credential.issuer_ref, Credential.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    settings = session.info.get("settings")
    for issuer_name, issuer_ref, _credential_id in voided:
        if issuer_name != TestIssuer.name and issuer_ref:  # live: close it there too
            close_at_issuer(session, settings, issuer_name, issuer_ref, spend_request_id)


def close_at_issuer(
    session: Session, settings: Any, issuer_name: str, issuer_ref: str, spend_request_id: str
) -> bool:
    """Cancel a card / revoke a token at its issuer. Failures are logged, not raised:
    our records already refuse the credential, and `issuer reconcile` closes it later."""
    try:
        issuer_for(session, settings, issuer_name).void(
            issuer_ref, idempotency_key=f"{spend_request_id}:void"
        )
    except IssuingError as error:
        log.warning("could not close %s at %s: %s", spend_request_id, issuer_name, error)
        return False
    return True


def expire_credentials(session: Session, now: datetime | None = None) -> int:
    """Mark every active credential past `valid_until` expired and shred its sealed
    secrets; returns how many. Safe to run any time (e.g. periodically from `serve`):
    a charge or reveal already refuses such credentials, this only minimises what sits
    at rest. Spend requests read `expired` by themselves (spend/windows.py)."""
    now = now or _now()
    expired = session.execute(
        update(Credential)
        .where(Credential.status == "active", Credential.valid_until <= now)
        .values(status="expired", secret_ciphertext=None)
        .returning(Credential.id)
        .execution_options(synchronize_session=False)
    ).all()
    return len(expired)
