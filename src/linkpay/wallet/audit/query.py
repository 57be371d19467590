"""Reading the log for people: one person's entries (the activity page), or every
entry about one subject (a receipt)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.audit.verify import entry_of
from linkpay.wallet.store.audit_models import AuditEntry


def entries_for_user(
    db: Session,
    user_id: str,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    types: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The person's newest entries first (`before_seq` pages further back)."""
    query = select(AuditEntry).where(AuditEntry.user_id == user_id)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if types is not None:
        query = query.where(AuditEntry.type.in_(list(types)))
    rows = db.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)).all()
    return [entry_of(row) for row in rows]


def entries_for_subject(db: Session, subject: str) -> list[dict[str, Any]]:
    """Every entry about `subject`, oldest first."""
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.seq)
    ).all()
    return [entry_of(row) for row in rows]
