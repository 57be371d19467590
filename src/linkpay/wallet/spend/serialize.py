"""Render a stored spend request as the wire `SpendRequest` the agent sees.

The status shown is the *effective* one (a request past its window reads `expired`
even before the stored row catches up). Credentials are added only when explicitly
asked for (`include=card` / `shared_payment_token`), only while the request is
approved, and only while the hash the person approved still matches the purchase.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.policy.service import decision_of
from linkpay.wallet.spend.hashing import material_hash
from linkpay.wallet.spend.windows import deadline, effective_status
from linkpay.wallet.store.models import Credential, SpendRequest, SpendRequestEvent, utcnow
from linkpay.wire import PaymentStatusDetails, StatusDetails
from linkpay.wire import SpendRequest as WireSpendRequest


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def approval_url(settings: Any, spend_request_id: str) -> str:
    return f"{settings.public_url}/approve/{spend_request_id}"


def status_history(session: Session, spend_request_id: str) -> list[dict[str, Any]]:
    events = session.scalars(
        select(SpendRequestEvent)
        .where(SpendRequestEvent.spend_request_id == spend_request_id)
        .order_by(SpendRequestEvent.created_at, SpendRequestEvent.id)
    ).all()
    return [
        {
            "status": event.to_status,
            "from_status": event.from_status,
            "actor": event.actor,
            "note": event.note,
            "created_at": iso(event.created_at),
        }
        for event in events
    ]


def _credential(session: Session, spend_request_id: str) -> Credential | None:
    return session.scalars(
        select(Credential).where(Credential.spend_request_id == spend_request_id)
    ).first()


def credential_revealable(row: SpendRequest, status: str) -> bool:
    """The person approved exactly this purchase and it is still live."""
    return (
        status == "approved"
        and row.approval_hash is not None
        and row.approval_hash == material_hash(row)
    )


def to_wire(
    session: Session,
    row: SpendRequest,
    *,
    settings: Any,
    include: Iterable[str] = (),
    history: bool = False,
    now: datetime | None = None,
) -> WireSpendRequest:
    now = now or utcnow()
    status = effective_status(row, now)
    wanted = set(include)
    credential = _credential(session, row.id)
    card = None
    token = None
    if wanted and credential_revealable(row, status):
        from linkpay.wallet.issuing import service as issuing

        if "card" in wanted and row.credential_type == "card":
            card = issuing.reveal_card(session, row, settings=settings)
        if "shared_payment_token" in wanted and row.credential_type == "shared_payment_token":
            token = issuing.shared_payment_token(session, row)
    phase_deadline = deadline(row)
    return WireSpendRequest(
        id=row.id,
        status=status,  # type: ignore[arg-type]
        merchant_name=row.merchant_name,
        merchant_url=row.merchant_url,
        context=row.context,
        amount=row.amount,
        currency=row.currency,
        line_items=row.line_items or [],
        totals=row.totals or [],
        payment_method=row.payment_method_id,
        payment_details=row.payment_method_id,
        credential_type=row.credential_type,  # type: ignore[arg-type]
        network_id=row.network_id,
        card_brand=credential.brand if credential and row.credential_type == "card" else None,
        card_last4=credential.last4 if credential and row.credential_type == "card" else None,
        approval_url=approval_url(settings, row.id),
        card=card,
        shared_payment_token=token,
        payment_status_details=(
            PaymentStatusDetails.model_validate(row.payment_status_details)
            if row.payment_status_details is not None
            else None
        ),
        status_details=(
            StatusDetails.model_validate(row.status_details)
            if row.status_details is not None
            else None
        ),
        metadata=row.request_metadata or {},
        # The deadline of the current phase (decision, then credential validity); the
        # agent's own deadline once the request is settled.
        expires_at=iso(phase_deadline if phase_deadline is not None else row.expires_at),
        created_at=iso(row.created_at),
        updated_at=iso(row.updated_at),
        livemode=not row.test,
        test=row.test,
        status_history=status_history(session, row.id) if history else None,
        decision=decision_of(session, row.id),  # type: ignore[arg-type]
    )
