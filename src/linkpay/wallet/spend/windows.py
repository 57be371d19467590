"""Time windows: the person must decide within the approval window, and a credential
is valid for a bounded time (or until first use). An agent-supplied `expires_at` (only
for clients the operator allows, 3 hours to 7 days ahead) replaces the default
credential validity and caps the approval window. A request past its window *reads*
`expired` at once (`effective_status`); the stored status follows lazily, with a
conditional update, the next time it is touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from linkpay.wallet.issuing.service import void_credentials
from linkpay.wallet.spend.states import transition
from linkpay.wallet.store.models import SpendRequest

_AWAITING_DECISION = ("created", "pending_approval")


def earliest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None


def credential_deadline(now: datetime, settings: Any, expires_at: datetime | None) -> datetime:
    """Until when a credential issued now is valid: the request's own `expires_at` when
    the agent set one (validated to the allowed range at create), else the default."""
    if expires_at is not None:
        return expires_at
    return now + timedelta(seconds=int(settings.credential_validity_seconds))


class Phased(Protocol):
    """What the windows read of a request: a `SpendRequest`, or a row of its columns."""

    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def approval_expires_at(self) -> datetime | None: ...
    @property
    def credential_valid_until(self) -> datetime | None: ...


def deadline(row: Phased) -> datetime | None:
    """When the request's current phase runs out, or None when it has no deadline."""
    if row.status in _AWAITING_DECISION:
        return earliest(row.approval_expires_at, row.expires_at)
    if row.status == "approved":
        return earliest(row.credential_valid_until, row.expires_at)
    return None


def effective_status(row: Phased, now: datetime) -> str:
    limit = deadline(row)
    if limit is not None and now >= limit:
        return "expired"
    return row.status


def expire_if_due(session: Session, row: SpendRequest, now: datetime) -> SpendRequest:
    """Persist the `expired` the row already reads as. Race-safe: guarded by status and
    version, so an approval or charge that landed first wins and we just re-read."""
    if effective_status(row, now) != "expired" or row.status == "expired":
        return row
    previous = row.status
    updated = transition(
        session,
        row.id,
        from_statuses=(previous,),
        to_status="expired",
        actor="system",
        note="approval window passed" if previous != "approved" else "credential expired",
        expected_version=row.version,
        now=now,
    )
    if updated is None:
        fresh = session.get(SpendRequest, row.id, populate_existing=True)
        assert fresh is not None
        return fresh
    if previous == "approved":
        void_credentials(session, row.id)
    return updated
