"""The agent's read paths (retrieve, list), built so reads never queue for a write.

A read runs in a read-only transaction (a deferred BEGIN on SQLite: a WAL snapshot,
no write lock). A request whose window has passed already *reads* `expired`
(`windows.effective_status`); persisting that is a separate short write, made only
when one is actually due, after the read has finished.

Lists are Stripe-style pages, newest first: `limit` (≤ 100), `starting_after` (the
last id of the previous page) and `has_more`, read from the
`(user_id, created_at, id)` index backwards. The active list filters on the
*effective* status in SQL, so a page never comes back short because some rows turned
out to be expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.errors import InvalidRequest
from linkpay.wallet.spend.decisions import load_for_user
from linkpay.wallet.spend.windows import Phased, effective_status, expire_if_due
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.models import SpendRequest, utcnow
from linkpay.wire import ACTIVE_STATUSES

MAX_PAGE_SIZE = 100
_AWAITING = ("created", "pending_approval")


def expiry_due(row: Phased, now: datetime) -> bool:
    """The row reads `expired` but is not stored so yet."""
    return row.status != "expired" and effective_status(row, now) == "expired"


class Expiring(Phased, Protocol):
    """A request whose expiry may be due: a `SpendRequest`, or a row of its columns."""

    @property
    def id(self) -> str: ...


def persist_due_expiries(factory: sessionmaker[Session], rows: Sequence[Expiring]) -> None:
    """One short write for the rows whose expiry is due (no-op when none is)."""
    now = utcnow()
    due = [row.id for row in rows if expiry_due(row, now)]
    if not due:
        return
    with transaction(factory) as session:
        for spend_request_id in due:
            row = session.get(SpendRequest, spend_request_id)
            if row is not None:
                expire_if_due(session, row, now)


def _open(deadline: Any, now: datetime) -> ColumnElement[bool]:
    return or_(deadline.is_(None), deadline > now)


def effectively_active(now: datetime) -> ColumnElement[bool]:
    """SQL for `effective_status(row, now) in ACTIVE_STATUSES`."""
    return or_(
        and_(
            SpendRequest.status.in_(_AWAITING),
            _open(SpendRequest.approval_expires_at, now),
            _open(SpendRequest.expires_at, now),
        ),
        and_(
            SpendRequest.status == "approved",
            _open(SpendRequest.credential_valid_until, now),
            _open(SpendRequest.expires_at, now),
        ),
    )


def list_page(
    session: Session,
    user_id: str,
    *,
    include_history: bool,
    limit: int,
    starting_after: str | None,
    now: datetime,
) -> tuple[list[SpendRequest], bool]:
    """One page of the person's requests, newest first, and whether more follow."""
    stmt = select(SpendRequest).where(SpendRequest.user_id == user_id)
    if not include_history:
        stmt = stmt.where(effectively_active(now))
    if starting_after is not None:
        cursor = session.execute(
            select(SpendRequest.created_at, SpendRequest.id).where(
                SpendRequest.id == starting_after, SpendRequest.user_id == user_id
            )
        ).first()
        if cursor is None:
            raise InvalidRequest("starting_after: no such spend request", param="starting_after")
        stmt = stmt.where(
            tuple_(SpendRequest.created_at, SpendRequest.id) < tuple_(cursor[0], cursor[1])
        )
    rows = list(
        session.scalars(
            stmt.order_by(SpendRequest.created_at.desc(), SpendRequest.id.desc()).limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit


# --- the person's side (inside the caller's transaction) ---------------------------

_HISTORY_LIMIT = 1000


def get_for_user(session: Session, user_id: str, spend_request_id: str) -> SpendRequest:
    """The person's request (404 if it is not theirs), with a due expiry persisted."""
    return expire_if_due(session, load_for_user(session, user_id, spend_request_id), utcnow())


def list_for_user(
    session: Session, user_id: str, *, include_history: bool = False
) -> list[SpendRequest]:
    """Active requests (created, pending_approval, approved), newest first; with
    `include_history`, every request (the most recent 1000)."""
    now = utcnow()
    stmt = select(SpendRequest).where(SpendRequest.user_id == user_id)
    if not include_history:
        stmt = stmt.where(SpendRequest.status.in_(ACTIVE_STATUSES))
    else:
        stmt = stmt.limit(_HISTORY_LIMIT)
    rows = session.scalars(
        stmt.order_by(SpendRequest.created_at.desc(), SpendRequest.id.desc())
    ).all()
    rows = [expire_if_due(session, row, now) for row in rows]
    if not include_history:
        rows = [row for row in rows if effective_status(row, now) in ACTIVE_STATUSES]
    return rows
