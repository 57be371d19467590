"""Recording events: `record_event` queues an event on the caller's session; the queue
is appended to a chain as the last step before that session commits.

Why at commit time: the append takes a chain's lock (its `audit_head` row, `SELECT …
FOR UPDATE` on PostgreSQL; SQLite transactions already hold the write lock from
`BEGIN IMMEDIATE`). Taking it last keeps it for the shortest time and never while the
caller still waits for other row locks, so appends cannot deadlock with domain
updates. The events commit or roll back together with the change they describe, and
two concurrent transactions can never fork a chain (the head row serialises them; the
unique (chain, chain_seq) and (chain, prev_hash) would refuse a fork even if it did
not).

Why several chains on PostgreSQL: the head row stays locked until COMMIT, so with one
chain every writing transaction of every worker queued behind the one before it (a
commit's round trips and WAL flush, plus waiting for its process's GIL). An append
takes whichever chain is free (`FOR UPDATE SKIP LOCKED`, this thread's own chain
first) and waits only when all of them are busy. SQLite appends to chain 1 only.

After a successful commit each appended entry is also logged on the `linkpay.events`
logger (one JSON line per event when `LINKPAY_LOG_FORMAT=json`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from linkpay.wallet.audit.chain import canonical_data, entry_hash, format_time
from linkpay.wallet.logging import redact_value
from linkpay.wallet.store.audit_models import AUDIT_CHAINS, AuditEntry, AuditHead
from linkpay.wallet.store.models import utcnow

EVENTS_LOGGER = logging.getLogger("linkpay.events")
_PENDING = "linkpay.audit.pending"
_APPENDED = "linkpay.audit.appended"
_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_AUDIT_TABLE = cast(Table, AuditEntry.__table__)

# PostgreSQL, as driver SQL (this runs in every writing transaction, so no ORM or
# compilation): this thread's chain if free, else the next free one, drawing the
# entries' seq numbers in the same round trip; `_WAIT_FOR_CHAIN` when all are busy.
_NEW_SEQS = "ARRAY(SELECT nextval('audit_log_seq') FROM generate_series(1, %s))"
_TAKE_FREE_CHAIN = (
    "WITH head AS (SELECT id, seq, hash FROM audit_head WHERE id BETWEEN 1 AND %s "
    "ORDER BY (id + %s) %% %s LIMIT 1 FOR UPDATE SKIP LOCKED) "
    f"SELECT head.id, head.seq, head.hash, {_NEW_SEQS} FROM head"
)
_WAIT_FOR_CHAIN = f"SELECT id, seq, hash, {_NEW_SEQS} FROM audit_head WHERE id = %s FOR UPDATE"
_COLUMNS: tuple[str, ...] = ("seq", "chain", "chain_seq", "at", "type", "actor", "subject")
_COLUMNS += ("user_id", "data", "prev_hash", "hash")
# The entries and the chain's new head in one statement (one round trip under the lock).
# The entries travel as one JSON array (`json_populate_recordset`): the statement's text
# never changes with the batch size, so psycopg converts it once (a VALUES list of a
# thousand rows was re-split on every append, and per-column arrays are quoted element
# by element in Python), and encoding a batch is one C-accelerated `json.dumps`.
_APPEND = (
    f"WITH appended AS (INSERT INTO audit_log ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(_COLUMNS)} FROM json_populate_recordset(NULL::audit_log, %s)) "
    "UPDATE audit_head SET seq = %s, hash = %s WHERE id = %s"
)

_next_chain = itertools.count(os.getpid())
_thread = threading.local()


def _own_chain() -> int:
    """This thread's preferred chain (1..AUDIT_CHAINS), spread over threads and
    processes so concurrent appenders mostly start on different chains."""
    chain: int | None = getattr(_thread, "chain", None)
    if chain is None:
        chain = _thread.chain = next(_next_chain) % AUDIT_CHAINS + 1
    return chain


def _take_chain(connection: Connection, count: int) -> tuple[int, int, str, list[int]]:
    """Lock a chain's head: (chain, its last chain_seq, its last hash, `count` new
    global seq numbers)."""
    if connection.dialect.name != "postgresql":
        head = connection.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
        ).one()
        # One chain under the database's write lock: seq and chain_seq agree.
        return 1, head.seq, head.hash, list(range(head.seq + 1, head.seq + count + 1))
    own = _own_chain()
    row = connection.exec_driver_sql(
        _TAKE_FREE_CHAIN, (AUDIT_CHAINS, AUDIT_CHAINS - own, AUDIT_CHAINS, count)
    ).one_or_none()
    if row is None:
        row = connection.exec_driver_sql(_WAIT_FOR_CHAIN, (count, own)).one()
    return row[0], row[1], row[2], list(row[3])


def _write(
    connection: Connection, chain: int, chain_seq: int, last_hash: str, rows: list[tuple[Any, ...]]
) -> None:
    """Insert the entries and move the chain's head to the last of them."""
    if connection.dialect.name != "postgresql":
        named = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
        connection.execute(insert(_AUDIT_TABLE), named)
        connection.execute(
            update(AuditHead).where(AuditHead.id == chain).values(seq=chain_seq, hash=last_hash)
        )
        return
    entries = json.dumps(
        [dict(zip(_COLUMNS, (*row[:3], row[3].isoformat(), *row[4:]), strict=True)) for row in rows]
    )
    connection.exec_driver_sql(_APPEND, (entries, chain_seq, last_hash, chain))


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
    if not session.info.get(_PENDING):
        return []
    # Write the transaction's own changes first: their row locks are taken before the
    # chain's, which is then held only for the append and the commit.
    session.flush()
    pending: list[PendingEvent] = session.info.pop(_PENDING, None) or []
    connection = session.connection()
    chain, chain_seq, prev_hash, seqs = _take_chain(connection, len(pending))
    written: list[dict[str, Any]] = []
    rows: list[tuple[Any, ...]] = []
    for item, seq in zip(pending, seqs, strict=True):
        chain_seq += 1
        at = utcnow()
        entry: dict[str, Any] = {
            "seq": seq,
            "chain": chain,
            "chain_seq": chain_seq,
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
            (seq, chain, chain_seq, at, item.type, item.actor, item.subject, item.user_id)
            + (item.data, prev_hash, entry["hash"])
        )
        prev_hash = entry["hash"]
        written.append(entry)
    # One statement for all of them (a batch of long-poll reveals appends dozens).
    _write(connection, chain, chain_seq, prev_hash, rows)
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
