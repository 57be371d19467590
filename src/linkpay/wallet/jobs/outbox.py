"""The outbox table's operations: enqueue, claim, finish, retry.

- `enqueue(session, kind, payload, dedupe_key=…)` in the caller's transaction; a
  `dedupe_key` makes a second enqueue of the same job a no-op.
- `claim(factory, token, …)` leases up to `limit` due jobs to one worker: pending
  jobs whose `run_after` passed, and running jobs whose lease ran out (their worker
  died: kill -9, power loss). Each claim increments `attempts`.
- `finish` / `retry` record the outcome only while the worker still holds the lease
  (same token): a worker that lost its lease can't mark someone else's attempt.

Backoff after failure n: `BACKOFF_SECONDS[n-1]` (the last value repeats), with up to
`MAX_ATTEMPTS` attempts before a job is `failed`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.store.capacity_models import OutboxJob
from linkpay.wallet.store.db import read_transaction, transaction
from linkpay.wallet.store.models import utcnow

BACKOFF_SECONDS = (1.0, 5.0, 30.0, 120.0, 600.0)
MAX_ATTEMPTS = 8
DEFAULT_LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    token: str


def new_token() -> str:
    return secrets.token_hex(16)


def enqueue(
    session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str | None = None
) -> None:
    """Add a job in the caller's transaction (runs once it commits)."""
    now = utcnow()
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "state": "pending",
        "attempts": 0,
        "run_after": now,
        "created_at": now,
    }
    # The dialect's own INSERT (for ON CONFLICT), imported for the database in use: the
    # PostgreSQL dialect costs a SQLite wallet's start ~50 ms.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(OutboxJob)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(OutboxJob)
    stmt = stmt.values(**values)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    session.execute(stmt)


def claim(
    factory: sessionmaker[Session],
    token: str,
    *,
    limit: int = 10,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> list[ClaimedJob]:
    now = utcnow()
    is_due = or_(
        and_(OutboxJob.state == "pending", OutboxJob.run_after <= now),
        and_(OutboxJob.state == "running", OutboxJob.lease_until < now),
    )
    # An idle poll is a plain read: no SQLite write lock, no row locks.
    with read_transaction(factory) as session:
        if session.scalars(select(OutboxJob.id).where(is_due).limit(1)).first() is None:
            return []
    with transaction(factory) as session:
        due = select(OutboxJob).where(is_due).order_by(OutboxJob.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        jobs = list(session.scalars(due))
        lease_until = now + timedelta(seconds=lease_seconds)
        for job in jobs:
            job.state = "running"
            job.attempts += 1
            job.lease_token = token
            job.lease_until = lease_until
        return [ClaimedJob(j.id, j.kind, dict(j.payload), j.attempts, token) for j in jobs]


def _fenced(job: ClaimedJob) -> Any:
    return and_(
        OutboxJob.id == job.id,
        OutboxJob.state == "running",
        OutboxJob.lease_token == job.token,
    )


def finish(session: Session, job: ClaimedJob) -> bool:
    """Mark done (in the caller's transaction). False: the lease was lost."""
    done = session.execute(
        update(OutboxJob)
        .where(_fenced(job))
        .values(state="done", finished_at=utcnow(), lease_token=None, lease_until=None)
        .returning(OutboxJob.id)
        .execution_options(synchronize_session=False)
    ).first()
    return done is not None


def retry(factory: sessionmaker[Session], job: ClaimedJob, error: str) -> str:
    """Schedule the next attempt (or give up after MAX_ATTEMPTS); returns the state."""
    state = "failed" if job.attempts >= MAX_ATTEMPTS else "pending"
    delay = BACKOFF_SECONDS[min(job.attempts, len(BACKOFF_SECONDS)) - 1]
    now = utcnow()
    with transaction(factory) as session:
        session.execute(
            update(OutboxJob)
            .where(_fenced(job))
            .values(
                state=state,
                run_after=now + timedelta(seconds=delay),
                last_error=error[:500],
                lease_token=None,
                lease_until=None,
                finished_at=now if state == "failed" else None,
            )
            .execution_options(synchronize_session=False)
        )
    return state
