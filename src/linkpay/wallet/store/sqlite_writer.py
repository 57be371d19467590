"""One writer at a time per SQLite file inside a process, queued on a Python lock
instead of inside SQLite's busy handler.

SQLite allows one write transaction per database. A second `BEGIN IMMEDIATE` waits in
SQLite's busy handler, which polls by sleeping 1, 2, 5, 10, … up to 100 ms between
tries: under concurrent writes most of the time went into those sleeps while the lock
stood free (py-spy, 16 parallel creates: 64 % of the wall time inside `BEGIN
IMMEDIATE`, p99 1.4 s). Writers of one process now wait on a `threading.Lock` taken
just before `BEGIN IMMEDIATE` and released the moment the transaction commits or rolls
back, so the next writer starts at once. Other processes on the same file still meet
SQLite's own lock and busy timeout; a wait here past the busy timeout fails the same
way SQLite would (`database is locked`, answered 503).

The lock belongs to the DBAPI connection's transaction: `WriterConnection` (passed to
`sqlite3.connect` as its documented `factory`) lets go of it in `commit`, `rollback`
and `close`, whichever ends the transaction, whoever calls it (SQLAlchemy, the pool's
reset on return, an invalidation).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def writer_lock(path: str) -> threading.Lock:
    """The process-wide writer lock of the database file at `path` (every engine on
    one file shares it, so they queue here rather than in SQLite)."""
    key = os.path.realpath(path)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class WriterConnection(sqlite3.Connection):
    """A sqlite3 connection that may hold its file's writer lock for one transaction."""

    writer: threading.Lock | None = None
    _holding = False

    def take_writer_lock(self, timeout: float) -> None:
        """Wait for this file's writer lock (at most `timeout` seconds) before a write
        transaction begins; raises `database is locked` like SQLite when it can't."""
        if self.writer is None or self._holding:
            return
        if not self.writer.acquire(timeout=max(timeout, 0.0)):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        self._holding = True

    def release_writer_lock(self) -> None:
        if self._holding and self.writer is not None:
            self._holding = False
            self.writer.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            # A failed COMMIT leaves the transaction open only until the rollback that
            # follows; SQLite's own lock still guards it meanwhile.
            self.release_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer_lock()


def connect_args(path: str | None, timeout_seconds: float) -> dict[str, Any]:
    """`sqlite3.connect` arguments for an engine: with a file `path`, connections share
    that file's writer lock."""
    args: dict[str, Any] = {"timeout": timeout_seconds, "check_same_thread": False}
    if path is not None:
        lock = writer_lock(path)
        args["factory"] = type("FileWriterConnection", (WriterConnection,), {"writer": lock})
    return args


def begin_immediate(conn: Connection, timeout_seconds: float) -> None:
    """Begin a write transaction on `conn`: this process's writer lock first (when the
    connection has one), then SQLite's (`BEGIN IMMEDIATE`)."""
    dbapi_connection = conn.connection.dbapi_connection
    if not isinstance(dbapi_connection, WriterConnection):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    dbapi_connection.take_writer_lock(timeout_seconds)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        dbapi_connection.release_writer_lock()
        raise
