"""The person's own settings that no other service owns: the per-request limit."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.store.models import User
from linkpay.wire import MAX_AMOUNT

MAX_LIMIT = MAX_AMOUNT
LIMIT_ERROR = f"Enter an amount between 0.01 and {MAX_AMOUNT / 100:.2f}, like 120 or 120.50."


def parse_amount(text: str) -> int:
    """`"120.50"` → 12050 cents. Raises ValueError for anything else."""
    cleaned = re.sub(r"[\s,$]", "", text or "")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", cleaned):
        raise ValueError(LIMIT_ERROR)
    try:
        cents = int(Decimal(cleaned) * 100)
    except InvalidOperation as exc:
        raise ValueError(LIMIT_ERROR) from exc
    return cents


def set_request_limit(
    session: Session, user_id: str, cents: int, *, actor: str | None = None
) -> None:
    """The most one request may ask for; at most the platform maximum (50000 cents)."""
    if not 1 <= cents <= MAX_LIMIT:
        raise ValueError(LIMIT_ERROR)
    session.execute(update(User).where(User.id == user_id).values(max_amount_per_request=cents))
    audit.record_event(
        session,
        audit.events.LIMIT_CHANGED,
        actor=actor or audit.events.person(user_id),
        subject=user_id,
        user_id=user_id,
        data={"limit": "max_amount_per_request", "amount": cents},
    )
