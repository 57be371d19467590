"""Helpers for the audit log tests: open a session on a database, record events, and
tamper with rows inside a transaction that is rolled back afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.store.db import make_engine, make_sessionmaker, transaction


class Store:
    """A sessionmaker on a migrated database (disposed by `close`)."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.factory = make_sessionmaker(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def record(self, count: int, *, user_id: str = "usr_test", prefix: str = "t") -> None:
        """`count` events, one transaction each."""
        for number in range(count):
            with transaction(self.factory) as db:
                audit.record_event(
                    db,
                    "test.happened",
                    actor=f"person:{user_id}",
                    subject=f"{prefix}_{number}",
                    user_id=user_id,
                    data={"number": number, "note": "ünïcode ✓"},
                )

    def verify(self) -> audit.VerifyResult:
        with transaction(self.factory) as db:
            return audit.verify(db)

    def head(self) -> int:
        return self.verify().head_seq

    @contextmanager
    def tampered(self) -> Iterator[Session]:
        """A session whose changes are always rolled back: tamper, verify, forget."""
        with self.factory() as db:
            db.begin()
            try:
                yield db
            finally:
                db.rollback()


def execute(db: Session, sql: str, **params: Any) -> None:
    db.execute(text(sql), params)
