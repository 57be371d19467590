"""Used-challenge stores: one challenge id, one payment.

Neither pympp's nor mppx's stripe method remembers which challenge ids were paid, so a
challenge could be paid twice with two different tokens. The merchant side calls
`claim(challenge_id, expires_at)` right before settling; only the first caller for an
id gets True, also under concurrency (a dict under a lock in memory; a primary-key
INSERT in SQL, which has exactly one winner on SQLite and PostgreSQL).

Records are kept until the challenge's expiry plus a grace period, then may be purged:
an expired challenge is refused by its timestamp anyway.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

GRACE = timedelta(minutes=5)


class UsedChallengeStore(Protocol):
    def claim(self, challenge_id: str, expires_at: datetime) -> bool:
        """Record the id as used; True only for the first claim of that id."""
        ...

    def purge_expired(self, now: datetime | None = None) -> int: ...


class MemoryUsedChallengeStore:
    """For one process (tests, the embedded demo)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, datetime] = {}

    def claim(self, challenge_id: str, expires_at: datetime) -> bool:
        with self._lock:
            if challenge_id in self._used:
                return False
            self._used[challenge_id] = expires_at + GRACE
            return True

    def purge_expired(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        with self._lock:
            stale = [key for key, keep_until in self._used.items() if keep_until < now]
            for key in stale:
                del self._used[key]
            return len(stale)


_metadata = MetaData()
used_challenges = Table(
    "mpp_used_challenges",
    _metadata,
    Column("challenge_id", String(128), primary_key=True),
    Column("keep_until", DateTime(timezone=True), nullable=False, index=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    """WAL with synchronous=NORMAL: a claim costs a WAL append, not two fsyncs."""
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class SqlUsedChallengeStore:
    """In the merchant's own database (one small table, created on first use)."""

    def __init__(self, engine_or_url: Engine | str) -> None:
        if isinstance(engine_or_url, str):
            url = engine_or_url
            kwargs: dict = {}
            if url.startswith("sqlite"):
                kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            self.engine = create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = engine_or_url
        _metadata.create_all(self.engine)

    def claim(self, challenge_id: str, expires_at: datetime) -> bool:
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(used_challenges).values(
                        challenge_id=challenge_id, keep_until=expires_at + GRACE, claimed_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    def purge_expired(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(delete(used_challenges).where(used_challenges.c.keep_until < now))
            return result.rowcount or 0

    def close(self) -> None:
        self.engine.dispose()
