"""Recording events: `record_event` queues an event on the caller's session; the queue
is appended to the chain as the last step before that session commits.

Why at commit time: the append takes the chain's one lock (the `audit_head` row,
`SELECT … FOR UPDATE` on PostgreSQL; SQLite transactions already hold the write lock
from `BEGIN IMMEDIATE`). Taking it last keeps it for the shortest time and never while
the caller still waits for other row locks, so appends cannot deadlock with domain
updates. The events commit or roll back together with the change they describe, and
two concurrent transactions can never fork the chain (the head row serialises them;
unique `prev_hash` would refuse a fork even if it did not).

After a successful commit each appended entry is also logged on the `linkpay.events`
logger (one JSON line per event when `LINKPAY_LOG_FORMAT=json`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from linkpay.wallet.audit.chain import canonical_data, entry_hash, format_time
from linkpay.wallet.logging import redact_value
from linkpay.wallet.store.audit_models import AuditEntry, AuditHead
from linkpay.wallet.store.models import utcnow

EVENTS_LOGGER = logging.getLogger("linkpay.events")
_PENDING = "linkpay.audit.pending"
_APPENDED = "linkpay.audit.appended"
_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
HEAD_ID = 1
_AUDIT_TABLE = cast(Table, AuditEntry.__table__)


@dataclass(frozen=True)
class PendingEvent:
    type: str
    actor: str
    subject: str
    user_id: str | None
    data: str  # canonical JSON
    # The savepoint it was recorded in (None: the outer transaction), so rolling that
    # savepoint back forgets it.
    savepoint: SessionTransaction | None = None


def record_event(
    db: Session,
    type: str,
    *,
    actor: str,
    subject: str,
    data: Mapping[str, Any] | None = None,
    user_id: str | None = None,
) -> None:
    """Append an event to the audit log when `db`'s transaction commits.

    `type` is dotted lower case (`spend_request.approved`, see `audit.events`);
    `actor` who did it (`person:usr_…`, `agent:<token family>`, `system`, …); `subject`
    what it was done to (an id); `user_id` the person whose record it belongs to.
    `data` must never hold card data: it is scrubbed like a log line anyway."""
    if not _TYPE.match(type):
        raise ValueError(f"audit event type must be dotted lower case, got {type!r}")
    if not actor or not subject:
        raise ValueError("audit events need an actor and a subject")
    scrubbed = redact_value(dict(data or {}))
    db.info.setdefault(_PENDING, []).append(
        PendingEvent(
            type,
            actor[:200],
            subject[:200],
            user_id,
            canonical_data(scrubbed),
            db.get_nested_transaction(),
        )
    )


def append_pending(session: Session) -> list[dict[str, Any]]:
    """Append the session's queued events now (inside its transaction) and return the
    entries written. Called by the before-commit hook; callable directly by code that
    needs the entries' seq before committing."""
    pending: list[PendingEvent] = session.info.pop(_PENDING, None) or []
    if not pending:
        return []
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one()
    seq, prev_hash = head.seq, head.hash
    written: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for item in pending:
        seq += 1
        at = utcnow()
        entry: dict[str, Any] = {
            "seq": seq,
            "at": format_time(at),
            "type": item.type,
            "actor": item.actor,
            "subject": item.subject,
            "user_id": item.user_id,
            "data": json.loads(item.data),
            "prev_hash": prev_hash,
        }
        entry["hash"] = entry_hash(entry)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "type": item.type,
                "actor": item.actor,
                "subject": item.subject,
                "user_id": item.user_id,
                "data": item.data,
                "prev_hash": prev_hash,
                "hash": entry["hash"],
            }
        )
        prev_hash = entry["hash"]
        written.append(entry)
    # One statement for all of them (a batch of long-poll reveals appends dozens).
    session.execute(insert(_AUDIT_TABLE), rows)  # Core: no ORM bulk machinery
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=seq, hash=prev_hash)
    )
    session.info.setdefault(_APPENDED, []).extend(written)
    return written


@event.listens_for(Session, "before_commit")
def _append_before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: wait for the real commit
        return
    append_pending(session)


@event.listens_for(Session, "after_commit")
def _log_after_commit(session: Session) -> None:
    for entry in session.info.pop(_APPENDED, None) or []:
        EVENTS_LOGGER.info(
            "%s %s by %s",
            entry["type"],
            entry["subject"],
            entry["actor"],
            extra={"linkpay_event": entry},
        )


def _inside(savepoint: SessionTransaction | None, closed: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is closed:
            return True
        savepoint = savepoint.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled back savepoint forgets the events recorded inside it; a rolled back
    transaction forgets them all."""
    if previous_transaction.nested:
        pending = session.info.get(_PENDING)
        if pending:
            session.info[_PENDING] = [
                item for item in pending if not _inside(item.savepoint, previous_transaction)
            ]
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_APPENDED, None)
