"""The person's decisions on a spend request: approve (binding the approval to the
purchase hash and issuing the credential in the same transaction), deny, cancel, and
"stop everything". Re-exported by `service`, the module other parts import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.binding import material_hash
from linkpay.wallet.errors import Conflict, NotFound, Unavailable
from linkpay.wallet.issuing.base import IssuerUnavailable, IssuingError
from linkpay.wallet.issuing.service import issue_credential, void_credentials
from linkpay.wallet.policy import service as policy
from linkpay.wallet.spend.states import CANCELABLE_STATUSES, invalid_state, transition
from linkpay.wallet.spend.validation import ensure_spending_allowed, load_person
from linkpay.wallet.spend.windows import credential_deadline, expire_if_due
from linkpay.wallet.store.models import SpendRequest, User, utcnow
from linkpay.wire import ACTIVE_STATUSES


def load_for_user(session: Session, user_id: str, spend_request_id: str) -> SpendRequest:
    row = session.get(SpendRequest, spend_request_id)
    if row is None or row.user_id != user_id:  # another person's request: 404, never 403
        raise NotFound("No such spend request", param="id")
    return row


def issue(session: Session, row: SpendRequest, *, settings: Any) -> None:
    """Issue the credential inside the approval's transaction. When the issuer fails,
    the error rolls the approval back with it: the request stays `pending_approval`,
    nothing is half-issued, and the person reads why (503 outage / 409 setup)."""

    try:
        credential = issue_credential(session, row, settings=settings)
    except IssuerUnavailable as exc:
        raise Unavailable(
            f"Not approved yet: {exc}. The request is still waiting for your approval.",
            code="issuer_unavailable",
            retry_after=30,
        ) from None
    except IssuingError as exc:
        raise Conflict(
            f"Not approved yet: {exc}. The request is still waiting.", code="issuer_rejected"
        ) from None
    issued_until = getattr(credential, "valid_until", None)
    if issued_until is not None and (
        row.credential_valid_until is None or issued_until < row.credential_valid_until
    ):
        row.credential_valid_until = issued_until
        session.flush()


def approve_spend_request(
    session: Session,
    *,
    user_id: str,
    spend_request_id: str,
    settings: Any,
    expected_hash: str | None = None,
) -> SpendRequest:
    """The person says yes. `expected_hash` is the `material_hash` of what their page
    showed; if the request changed since, the approval is refused (409
    `spend_request_changed`) so they never approve something they did not see. The
    approval, the hash it binds and the issued credential commit together."""
    now = utcnow()
    row = expire_if_due(session, load_for_user(session, user_id, spend_request_id), now)
    if row.status != "pending_approval":
        raise invalid_state(row.status, "approve")
    ensure_spending_allowed(load_person(session, user_id))
    current = material_hash(row)
    if expected_hash is not None and expected_hash != current:
        raise Conflict(
            "The spend request changed after it was shown; review it again before approving",
            code="spend_request_changed",
        )
    # Limits and budgets must still have room: hold the amount (under the wallet lock).
    policy.reserve_for_approval(session, row, now)
    updated = transition(
        session,
        row.id,
        from_statuses=("pending_approval",),
        to_status="approved",
        actor="person",
        expected_version=row.version,
        now=now,
        values={
            "approval_hash": current,
            "decided_at": now,
            "credential_valid_until": credential_deadline(now, settings, row.expires_at),
        },
    )
    if updated is None:  # someone else decided, or it changed, in between
        fresh = session.get(SpendRequest, row.id, populate_existing=True)
        if fresh is not None and fresh.status == "pending_approval":
            raise Conflict(
                "The spend request changed after it was shown; review it again",
                code="spend_request_changed",
            )
        raise invalid_state(fresh.status if fresh else "gone", "approve")
    policy.decided_by_person(session, updated, person_id=user_id, verdict="approved", now=now)
    issue(session, updated, settings=settings)
    return updated


_RACE_RETRIES = 3
# The event note "stop everything" leaves, so pages can say why a request ended.
PAUSED_NOTE = "spending paused"


def _move_from_current(
    session: Session,
    row: SpendRequest,
    *,
    allowed: tuple[str, ...],
    to_status: str,
    actor: str,
    action: str,
    now: datetime,
    values: dict[str, Any] | None = None,
    note: str | None = None,
) -> tuple[SpendRequest, str]:
    """Move from whatever allowed state the request is in *now*. If a concurrent
    writer changes it between our read and our compare-and-set (an approval landing
    while the agent cancels), re-read and try again from the new state, so the
    outcome is decided by the state machine, not by timing. Returns (row, previous)."""
    for _ in range(_RACE_RETRIES):
        if row.status not in allowed:
            break
        previous = row.status
        updated = transition(
            session,
            row.id,
            from_statuses=(previous,),
            to_status=to_status,
            actor=actor,
            now=now,
            values=values,
            note=note,
        )
        if updated is not None:
            return updated, previous
        fresh = session.get(SpendRequest, row.id, populate_existing=True)
        if fresh is None:
            raise invalid_state("gone", action)
        row = expire_if_due(session, fresh, now)
    raise invalid_state(row.status, action)


def deny_spend_request(
    session: Session, *, user_id: str, spend_request_id: str, reason: str | None = None
) -> SpendRequest:
    """The person says no, optionally saying why (kept in the history and audit log;
    the agent sees it in `status_history`)."""
    now = utcnow()
    reason = " ".join((reason or "").split())[:200] or None
    row = expire_if_due(session, load_for_user(session, user_id, spend_request_id), now)
    updated, _previous = _move_from_current(
        session,
        row,
        allowed=("created", "pending_approval"),
        to_status="denied",
        actor="person",
        action="deny",
        now=now,
        values={"decided_at": now},
        note=f"reason: {reason}" if reason else None,
    )
    policy.decided_by_person(session, updated, person_id=user_id, verdict="denied", now=now)
    return updated


def cancel_spend_request(
    session: Session, *, user_id: str, spend_request_id: str, actor: str = "agent"
) -> SpendRequest:
    """Cancel from created, pending_approval or approved; an issued credential is
    voided in the same transaction, so it can never be charged afterwards."""
    now = utcnow()
    row = expire_if_due(session, load_for_user(session, user_id, spend_request_id), now)
    updated, previous = _move_from_current(
        session,
        row,
        allowed=CANCELABLE_STATUSES,
        to_status="canceled",
        actor=actor,
        action="cancel",
        now=now,
    )
    if previous == "approved":
        void_credentials(session, row.id)
    return updated


def _audit_pause(session: Session, user_id: str, kind: str, actor: str | None) -> None:
    audit.record_event(
        session, kind, actor=actor or audit.events.person(user_id), subject=user_id, user_id=user_id
    )


def pause_spending(session: Session, user_id: str, *, actor: str | None = None) -> None:
    """ "Stop everything": refuse new requests, deny every request awaiting a decision
    and cancel approved ones, voiding their unused credentials."""
    now = utcnow()
    _audit_pause(session, user_id, audit.events.SPENDING_PAUSED, actor)
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(spending_paused=True)
        .execution_options(synchronize_session="fetch")
    )
    rows = session.scalars(
        select(SpendRequest).where(
            SpendRequest.user_id == user_id, SpendRequest.status.in_(ACTIVE_STATUSES)
        )
    ).all()
    for row in rows:
        previous = row.status
        target = "canceled" if previous == "approved" else "denied"
        updated = transition(
            session,
            row.id,
            from_statuses=(previous,),
            to_status=target,
            actor="person",
            note=PAUSED_NOTE,
            now=now,
        )
        if updated is not None and previous == "approved":
            void_credentials(session, row.id)


def resume_spending(session: Session, user_id: str, *, actor: str | None = None) -> None:
    _audit_pause(session, user_id, audit.events.SPENDING_RESUMED, actor)
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(spending_paused=False)
        .execution_options(synchronize_session="fetch")
    )
