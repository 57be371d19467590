"""The person's funding sources: list, refuse duplicates, remove, choose the default.

Removing keeps the row (past purchases point at it) with `removed_at` set; a removed
method is never listed, offered to agents or charged again. A method a purchase still
waits on (pending approval, or approved and not yet used) cannot be removed until that
purchase is finished, denied or canceled. Removing the default makes the oldest
remaining method the default.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.errors import Conflict, NotFound
from linkpay.wallet.store.models import PaymentMethod, SpendRequest, utcnow
from linkpay.wire import ACTIVE_STATUSES


def active_methods(db: Session, user_id: str) -> list[PaymentMethod]:
    """Default first, then oldest first; removed ones left out."""
    return list(
        db.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.user_id == user_id, PaymentMethod.removed_at.is_(None))
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at, PaymentMethod.id)
        )
    )


def get_method(db: Session, user_id: str, method_id: str) -> PaymentMethod:
    row = db.get(PaymentMethod, method_id)
    if row is None or row.user_id != user_id or row.removed_at is not None:
        raise NotFound("No such payment method", param="id")
    return row


def refuse_duplicate(
    db: Session,
    user_id: str,
    *,
    brand: str | None,
    last4: str,
    exp_month: int | None = None,
    exp_year: int | None = None,
) -> None:
    """The same card twice (brand and last 4 digits, and the expiry when known) is a
    mistake: 409 `duplicate_payment_method`."""
    for row in active_methods(db, user_id):
        same_expiry = exp_month is None or (row.exp_month, row.exp_year) == (exp_month, exp_year)
        if (row.brand, row.last4) == (brand, last4) and same_expiry:
            raise Conflict(
                f"That card ({(brand or 'card').capitalize()} ending in {last4}) is already "
                "in your wallet",
                code="duplicate_payment_method",
            )


def _record(db: Session, kind: str, row: PaymentMethod, actor: str | None) -> None:
    audit.record_event(
        db,
        kind,
        actor=actor or audit.events.person(row.user_id),
        subject=row.id,
        user_id=row.user_id,
        data={"brand": row.brand, "last4": row.last4, "is_default": row.is_default},
    )


def record_added(db: Session, row: PaymentMethod, *, actor: str | None = None) -> None:
    _record(db, audit.events.PAYMENT_METHOD_ADDED, row, actor)


def set_default_method(
    db: Session, user_id: str, method_id: str, *, actor: str | None = None
) -> PaymentMethod:
    row = get_method(db, user_id, method_id)
    db.execute(
        update(PaymentMethod)
        .where(PaymentMethod.user_id == user_id, PaymentMethod.id != row.id)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    row.is_default = True
    db.flush()
    _record(db, audit.events.PAYMENT_METHOD_DEFAULT, row, actor)
    return row


def remove_method(
    db: Session, user_id: str, method_id: str, *, actor: str | None = None
) -> PaymentMethod:
    row = get_method(db, user_id, method_id)
    waiting = db.scalars(
        select(SpendRequest.id)
        .where(
            SpendRequest.payment_method_id == row.id,
            SpendRequest.status.in_(ACTIVE_STATUSES),
        )
        .limit(1)
    ).first()
    if waiting is not None:
        raise Conflict(
            f"A purchase ({waiting}) still uses this card; approve, deny or cancel it first",
            code="payment_method_in_use",
        )
    removed = db.execute(
        update(PaymentMethod)
        .where(PaymentMethod.id == row.id, PaymentMethod.removed_at.is_(None))
        .values(removed_at=utcnow(), is_default=False)
        .returning(PaymentMethod.id)
        .execution_options(synchronize_session="fetch")
    ).first()
    if removed is None:  # removed concurrently
        raise NotFound("No such payment method", param="id")
    _record(db, audit.events.PAYMENT_METHOD_REMOVED, row, actor)
    remaining = active_methods(db, user_id)
    if remaining and not any(m.is_default for m in remaining):
        remaining[0].is_default = True
        db.flush()
    return row
