"""What the card network reports after a decision: captures, refunds, reversals and
shared payment token events. Each moves the spend request the way the test network's
own settlement does (`approved → succeeded | failed`), once: the issuer's transaction
or event id is recorded (`issuer_transactions`) and a repeat delivery does nothing.
A captured card is also canceled at the issuer (it has been used once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkpay.wallet.decide.rules import find_credential
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.service import close_at_issuer
from linkpay.wallet.spend.states import transition
from linkpay.wallet.store.issuer_models import IssuerTransaction
from linkpay.wallet.store.models import Credential, SpendRequest, Transaction


@dataclass(frozen=True)
class Reported:
    """One issuer report in our terms."""

    issuer: str
    event_ref: str  # the issuer's transaction / event id (dedupe key)
    card_ref: str
    kind: str  # capture | refund | reversal | expired | revoked
    amount: int  # positive minor units
    currency: str
    merchant_name: str | None = None


# kind → (spend request status, credential status, note)
_ENDINGS = {
    "reversal": ("failed", "voided", "authorization reversed by the merchant"),
    "expired": ("expired", "expired", "token expired at the issuer"),
    "revoked": ("canceled", "voided", "token revoked at the issuer"),
}


def _first_time(session: Session, report: Reported, credential: Credential | None) -> bool:
    try:
        with session.begin_nested():
            session.add(
                IssuerTransaction(
                    id=f"{report.issuer}:{report.event_ref}"[:200],
                    issuer=report.issuer,
                    kind=report.kind,
                    credential_id=credential.id if credential else None,
                    spend_request_id=credential.spend_request_id if credential else None,
                    amount=report.amount,
                    currency=report.currency.lower()[:3],
                    details={"merchant_name": report.merchant_name},
                )
            )
    except IntegrityError:
        return False
    return True


def _details(report: Reported, outcome: str, now: datetime) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "code": None if outcome == "success" else "authorization_reversed",
        "decline_code": None,
        "amount": report.amount,
        "currency": report.currency.lower(),
        "created": now.isoformat().replace("+00:00", "Z"),
    }


def apply(session: Session, report: Reported) -> str:
    """Apply a report; returns what happened (for logs and tests)."""
    now = datetime.now(UTC)
    credential = find_credential(session, report.issuer, report.card_ref)
    if not _first_time(session, report, credential):
        return "duplicate"
    if credential is None:
        return "unknown_card"
    request = session.get(SpendRequest, credential.spend_request_id)
    assert request is not None
    if report.kind == "refund":
        _transaction(session, request, report, -report.amount, "refund", now)
        return "refunded"
    if report.kind in _ENDINGS:
        to_status, credential_status, note = _ENDINGS[report.kind]
        moved = transition(
            session,
            request.id,
            from_statuses=("approved",),
            to_status=to_status,
            actor="network",
            note=f"{report.issuer}: {note}",
            now=now,
            values={"payment_status_details": _details(report, "failure", now)}
            if to_status == "failed"
            else None,
        )
        _end_credential(session, credential, credential_status, now)
        return to_status if moved else "ignored"
    moved = transition(
        session,
        request.id,
        from_statuses=("approved",),
        to_status="succeeded",
        actor="network",
        note=f"{report.issuer} capture by {report.merchant_name or 'the merchant'}"[:500],
        now=now,
        values={"payment_status_details": _details(report, "success", now)},
    )
    _end_credential(session, credential, "used", now)
    _transaction(session, request, report, report.amount, "virtual_card", now)
    if credential.kind == "card" and credential.issuer_ref:  # captured once: cancel it
        close_at_issuer(
            session, session.info.get("settings"), report.issuer, credential.issuer_ref, request.id
        )
    return "succeeded" if moved else "captured"


def _end_credential(session: Session, credential: Credential, status: str, now: datetime) -> None:
    session.execute(
        update(Credential)
        .where(Credential.id == credential.id, Credential.status == "active")
        .values(status=status, used_at=now, secret_ciphertext=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(credential)


def _transaction(
    session: Session,
    request: SpendRequest,
    report: Reported,
    amount: int,
    category: str,
    now: datetime,
) -> None:
    session.add(
        Transaction(
            id=new_id("txn"),
            user_id=request.user_id,
            source_id=report.event_ref[:40],
            spend_request_id=request.id,
            amount=amount,
            currency=report.currency.lower()[:3],
            description=(request.merchant_name or report.merchant_name or "")[:500] or None,
            origin="link",
            category=category,
            status="succeeded",
            created_at=now,
        )
    )
