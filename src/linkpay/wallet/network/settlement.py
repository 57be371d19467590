"""Settling a credential on the test network: the one-time-use rule and its records.

Every outcome is written in the caller's transaction: a `Charge` row for each attempt
(declines too), and on success the spend request `approved → succeeded` with
`payment_status_details`, the credential `active → used` (its sealed secrets shredded),
a `Transaction` for the person and a status event.

Exactly-once: both state changes are compare-and-set updates (conditional UPDATE) inside
one savepoint, taken in a fixed order — spend request first, then credential, the same
order the spend service uses when it cancels — so concurrent charges, or a charge racing
a cancel, have exactly one winner on SQLite and PostgreSQL without deadlocks. The loser
rolls its savepoint back and is declined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.service import iso
from linkpay.wallet.spend.states import transition
from linkpay.wallet.store.models import Charge, Credential, Merchant, SpendRequest, Transaction


@dataclass(frozen=True)
class Decline:
    """Why an attempt was refused. `burn`: the attempt also ends the credential and
    fails the spend request (see the policy in `card_charges` / `payment_intents`)."""

    decline_code: str
    message: str
    burn: bool = False


@dataclass
class Attempt:
    """One charge attempt as the network sees it (amount and currency as asked)."""

    charge_id: str
    kind: str  # card | shared_payment_token
    merchant: Merchant
    amount: int
    currency: str
    now: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    credential: Credential | None = None
    spend_request: SpendRequest | None = None


class _LostRace(Exception):
    pass


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_attempt(
    kind: str, merchant: Merchant, *, amount: int, currency: str, **extra: Any
) -> Attempt:
    prefix = "ch" if kind == "card" else "pi"
    return Attempt(
        charge_id=new_id(prefix),
        kind=kind,
        merchant=merchant,
        amount=amount,
        currency=currency,
        now=now_utc(),
        **extra,
    )


def payment_status_details(attempt: Attempt, decline: Decline | None) -> dict[str, Any]:
    return {
        "outcome": "failure" if decline else "success",
        "code": "card_declined" if decline else None,
        "decline_code": decline.decline_code if decline else None,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "created": iso(attempt.now),
    }


def _record_charge(session: Session, attempt: Attempt, decline: Decline | None) -> Charge:
    charge = Charge(
        id=attempt.charge_id,
        merchant_id=attempt.merchant.id,
        credential_id=attempt.credential.id if attempt.credential else None,
        spend_request_id=attempt.spend_request.id if attempt.spend_request else None,
        kind=attempt.kind,
        amount=attempt.amount,
        currency=attempt.currency,
        status="failed" if decline else "succeeded",
        decline_code=decline.decline_code if decline else None,
        charge_metadata=attempt.metadata,
        created_at=attempt.now,
    )
    session.add(charge)
    request = attempt.spend_request
    audit.record_event(
        session,
        audit.events.CHARGE_DECLINED if decline else audit.events.CHARGE_SUCCEEDED,
        actor=audit.events.merchant(attempt.merchant.id),
        subject=charge.id,
        user_id=request.user_id if request else None,
        data={
            "spend_request": request.id if request else None,
            "credential": attempt.credential.id if attempt.credential else None,
            "kind": attempt.kind,
            "amount": attempt.amount,
            "currency": attempt.currency,
            "merchant_name": attempt.merchant.name,
            "decline_code": decline.decline_code if decline else None,
        },
    )
    return charge


def _claim_credential(
    session: Session, credential: Credential, *, to_status: str, now: datetime
) -> None:
    claimed = session.execute(
        update(Credential)
        .where(
            Credential.id == credential.id,
            Credential.status == "active",
            Credential.valid_until > now,
        )
        .values(status=to_status, used_at=now, secret_ciphertext=None)
        .returning(Credential.id)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        raise _LostRace


def settle_success(session: Session, attempt: Attempt) -> bool:
    """Use the credential for this attempt. False when another attempt (or a cancel,
    or the clock) got there first; nothing was changed then."""
    credential, request = attempt.credential, attempt.spend_request
    assert credential is not None and request is not None
    try:
        with session.begin_nested():
            moved = transition(
                session,
                request.id,
                from_statuses=("approved",),
                to_status="succeeded",
                actor="network",
                note=f"{attempt.charge_id} by {attempt.merchant.name}",
                now=attempt.now,
                values={"payment_status_details": payment_status_details(attempt, None)},
            )
            if moved is None or moved.approval_hash != credential.approval_hash:
                raise _LostRace
            _claim_credential(session, credential, to_status="used", now=attempt.now)
    except _LostRace:
        return False
    _record_charge(session, attempt, None)
    session.add(
        Transaction(
            id=new_id("txn"),
            user_id=request.user_id,
            source_id=attempt.charge_id,
            spend_request_id=request.id,
            amount=attempt.amount,
            currency=attempt.currency,
            description=request.merchant_name or attempt.merchant.name,
            origin="link",
            category="virtual_card" if attempt.kind == "card" else "shared_payment_token",
            status="succeeded",
            created_at=attempt.now,
        )
    )
    session.expire(credential)
    return True


def settle_decline(session: Session, attempt: Attempt, decline: Decline) -> None:
    """Record a refused attempt; when `decline.burn`, also end the credential
    (card: voided, token: used) and fail the spend request with the reason."""
    credential, request = attempt.credential, attempt.spend_request
    if decline.burn and credential is not None and request is not None:
        try:
            with session.begin_nested():
                moved = transition(
                    session,
                    request.id,
                    from_statuses=("approved",),
                    to_status="failed",
                    actor="network",
                    note=f"{attempt.charge_id} declined: {decline.decline_code}",
                    now=attempt.now,
                    values={"payment_status_details": payment_status_details(attempt, decline)},
                )
                if moved is None:
                    raise _LostRace
                burned_status = "voided" if credential.kind == "card" else "used"
                _claim_credential(session, credential, to_status=burned_status, now=attempt.now)
        except _LostRace:
            pass
        session.expire(credential)
    _record_charge(session, attempt, decline)
