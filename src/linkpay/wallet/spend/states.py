"""The spend request state machine: which transitions are legal, and the one way to
make them (a conditional `UPDATE … WHERE id = … AND status IN (…) RETURNING`).

Every change of state goes through `transition()`: it is race-safe on SQLite and
PostgreSQL alike (exactly one of two concurrent callers wins, the other gets `None`),
bumps `version` and `updated_at`, and writes a `SpendRequestEvent` in the same
transaction. The test network uses it for approved → succeeded | failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.errors import Conflict
from linkpay.wallet.policy.ledger import follow_transition
from linkpay.wallet.store.models import SpendRequest, SpendRequestEvent, utcnow

# Legal transitions (docs/wire-api.md lists the statuses). `created → expired` is the approval
# window running out before the agent asked for approval; `created → denied` happens
# only when the person pauses all spending.
TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"pending_approval", "canceled", "expired", "denied"}),
    "pending_approval": frozenset({"approved", "denied", "expired", "canceled"}),
    "approved": frozenset({"succeeded", "failed", "canceled", "expired", "requires_action"}),
    "requires_action": frozenset({"approved", "succeeded", "failed", "canceled", "expired"}),
    "denied": frozenset(),
    "expired": frozenset(),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "canceled": frozenset(),
}
# Updates to the purchase itself are only allowed before the person decides.
EDITABLE_STATUSES = ("created", "pending_approval")
CANCELABLE_STATUSES = ("created", "pending_approval", "approved")

# Ids changed in a session; `longpoll` wakes local waiters for them after commit.
CHANGED_IDS_KEY = "linkpay.spend_requests_changed"
# Ids created in a session: nobody can wait on an id before its row commits, so their
# changes wake no one (no NOTIFY on PostgreSQL: a notifying commit takes a
# database-wide lock).
CREATED_IDS_KEY = "linkpay.spend_requests_created"
# Objects held referenced until the transaction ends (see `policy_gate.after_insert`).
KEEP_KEY = "linkpay.spend.keep"


def is_legal(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def invalid_state(row_status: str, action: str) -> Conflict:
    return Conflict(
        f"Cannot {action} a spend request that is {row_status}",
        code="invalid_state",
        status=row_status,
    )


def mark_changed(session: Session, spend_request_id: str) -> None:
    session.info.setdefault(CHANGED_IDS_KEY, set()).add(spend_request_id)


def changed_ids(session: Session, *, pop: bool = False) -> set[str]:
    """The ids whose waiters the session's commit must wake (changed, not new)."""
    get = session.info.pop if pop else session.info.get
    changed: set[str] = get(CHANGED_IDS_KEY, None) or set()
    created: set[str] = get(CREATED_IDS_KEY, None) or set()
    return changed - created


def record_event(
    session: Session,
    spend_request_id: str,
    *,
    from_status: str | None,
    to_status: str,
    actor: str,
    note: str | None = None,
    at: datetime | None = None,
) -> None:
    if from_status is None:
        session.info.setdefault(CREATED_IDS_KEY, set()).add(spend_request_id)
    session.add(
        SpendRequestEvent(
            spend_request_id=spend_request_id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note[:500] if note else None,
            created_at=at or utcnow(),
        )
    )
    mark_changed(session, spend_request_id)
    row = session.get(SpendRequest, spend_request_id)
    if row is not None:
        _audit_status(session, row, from_status, to_status, actor, note)


def _audit_status(
    session: Session,
    row: SpendRequest,
    from_status: str | None,
    to_status: str,
    actor: str,
    note: str | None,
) -> None:
    """The same change in the tamper-evident log: who moved which purchase where. A
    request decided as it was created (by the person's rules) is logged as asked by
    its agent first, then decided."""
    if from_status is None and to_status != "created":
        _audit_status(session, row, None, "created", "agent", None)
        from_status = "created"
    kind = audit.events.SPEND_STATUS_EVENTS.get(to_status, audit.events.SPEND_REQUEST_CREATED)
    data: dict[str, Any] = {
        "from": from_status,
        "to": to_status,
        "amount": row.amount,
        "currency": row.currency,
        "merchant_name": row.merchant_name,
    }
    if note:
        data["note"] = note[:500]
    if to_status == "approved" and row.approval_hash:
        data["approval_hash"] = row.approval_hash
    audit.record_event(
        session,
        kind,
        actor=audit.events.spend_actor(
            actor, user_id=row.user_id, token_family_id=row.token_family_id
        ),
        subject=row.id,
        user_id=row.user_id,
        data=data,
    )


def transition(
    session: Session,
    spend_request_id: str,
    *,
    from_statuses: Iterable[str],
    to_status: str,
    actor: str,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    values: dict[str, Any] | None = None,
) -> SpendRequest | None:
    """Move the request to `to_status` if it is still in one of `from_statuses` (and,
    when given, still at `expected_version`). Returns the updated row, or `None` when
    another writer got there first or the guard does not hold; the caller decides
    what that means. Illegal pairs are a programming error, not a race."""
    sources = tuple(from_statuses)
    for source in sources:
        if not is_legal(source, to_status):
            raise ValueError(f"illegal spend request transition {source} → {to_status}")
    now = now or utcnow()
    # One compare-and-set per source status, so the event records exactly which state
    # was left even when several are allowed (cancel from created/pending/approved).
    for source in sources:
        conditions = [SpendRequest.id == spend_request_id, SpendRequest.status == source]
        if expected_version is not None:
            conditions.append(SpendRequest.version == expected_version)
        stmt = (
            update(SpendRequest)
            .where(*conditions)
            .values(
                status=to_status,
                version=SpendRequest.version + 1,
                updated_at=now,
                **(values or {}),
            )
            .returning(SpendRequest.id)
            .execution_options(synchronize_session=False)
        )
        if session.execute(stmt).first() is None:
            continue
        updated = session.get(SpendRequest, spend_request_id, populate_existing=True)
        record_event(
            session,
            spend_request_id,
            from_status=source,
            to_status=to_status,
            actor=actor,
            note=note,
            at=now,
        )
        if updated is not None:  # the budget ledger follows in the same transaction
            follow_transition(
                session, updated, from_status=source, to_status=to_status, values=values, now=now
            )
        return updated
    return None


def touch(
    session: Session,
    spend_request_id: str,
    *,
    in_statuses: Iterable[str],
    expected_version: int,
    values: dict[str, Any],
    now: datetime | None = None,
) -> SpendRequest | None:
    """A change that keeps the status (an update of the purchase, a refreshed approval
    window): same compare-and-set on status and version, version bumped."""
    now = now or utcnow()
    stmt = (
        update(SpendRequest)
        .where(
            SpendRequest.id == spend_request_id,
            SpendRequest.status.in_(tuple(in_statuses)),
            SpendRequest.version == expected_version,
        )
        .values(version=SpendRequest.version + 1, updated_at=now, **values)
        .returning(SpendRequest.id)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).first() is None:
        return None
    mark_changed(session, spend_request_id)
    return session.get(SpendRequest, spend_request_id, populate_existing=True)
