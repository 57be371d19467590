"""`read_transaction` on SQLite: a deferred BEGIN that reads while a writer holds the
write lock; `transaction` still takes the write lock at BEGIN, after the process's
writer lock. And a file database keeps a connection per worker thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from linkpay.wallet.overload import is_overload
from linkpay.wallet.store.db import (
    SQLITE_POOL_SIZE,
    make_engine,
    make_sessionmaker,
    read_transaction,
    transaction,
)
from linkpay.wallet.store.sqlite_writer import writer_lock


def _engine(tmp_path: Path) -> tuple[Any, list[str]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'rt.db'}")
    begins: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    begins.clear()
    return engine, begins


def test_read_is_deferred_and_writes_still_take_the_lock(tmp_path: Path) -> None:
    engine, begins = _engine(tmp_path)
    factory = make_sessionmaker(engine)
    with read_transaction(factory) as session:
        assert session.execute(text("SELECT v FROM t")).scalar_one() == 1
    with transaction(factory) as session:
        session.execute(text("UPDATE t SET v = 2"))
    with read_transaction(factory) as session:  # a pooled connection forgets the option
        assert session.execute(text("SELECT v FROM t")).scalar_one() == 2
    assert begins == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN"]
    engine.dispose()


def test_read_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine, _ = _engine(tmp_path)
    factory = make_sessionmaker(engine)
    writer_holds_lock = threading.Event()
    reader_done = threading.Event()
    seen: list[int] = []

    def writer() -> None:
        with transaction(factory) as session:
            session.execute(text("UPDATE t SET v = 3"))
            writer_holds_lock.set()
            # Hold the write lock until the reader has finished (bounded, never a sleep).
            reader_done.wait(timeout=20)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writer_holds_lock.wait(timeout=20)
    with read_transaction(factory) as session:  # would block 30 s behind BEGIN IMMEDIATE
        seen.append(session.execute(text("SELECT v FROM t")).scalar_one())
    reader_done.set()
    thread.join(timeout=20)
    assert seen == [1]  # the last committed snapshot, not the writer's uncommitted value
    with read_transaction(factory) as session:
        assert session.execute(text("SELECT v FROM t")).scalar_one() == 3
    engine.dispose()


def test_sqlite_file_pool_keeps_a_connection_per_worker(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    assert engine.pool.size() == SQLITE_POOL_SIZE  # type: ignore[attr-defined]
    engine.dispose()
    memory = make_engine("sqlite://")  # in-memory databases keep SQLAlchemy's own pool
    with memory.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    memory.dispose()


def test_sqlite_connections_use_wal_with_normal_sync(tmp_path: Path) -> None:
    """WAL + synchronous=NORMAL: durable across application crashes, one fsync less
    per commit than the default FULL."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_writers_of_one_process_queue_on_the_writer_lock(tmp_path: Path) -> None:
    """A second writer waits on the process's writer lock, not in SQLite's busy handler
    (which sleeps up to 100 ms between tries): its `BEGIN IMMEDIATE` is sent only once
    the first writer has committed. The lock is free after a commit and a rollback."""
    engine, begins = _engine(tmp_path)
    factory = make_sessionmaker(engine)
    lock = writer_lock(str(tmp_path / "rt.db"))
    second_sent_begin = threading.Event()
    first_holds = threading.Event()
    let_go = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def _second(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement == "BEGIN IMMEDIATE" and threading.current_thread().name == "second":
            second_sent_begin.set()

    def first() -> None:
        with transaction(factory) as session:
            session.execute(text("UPDATE t SET v = v + 1"))
            first_holds.set()
            let_go.wait(timeout=20)

    def second() -> None:
        with transaction(factory) as session:
            session.execute(text("UPDATE t SET v = v + 1"))

    holder = threading.Thread(target=first)
    holder.start()
    assert first_holds.wait(timeout=20)
    assert lock.locked()  # held for the whole write transaction
    waiter = threading.Thread(target=second, name="second")
    waiter.start()
    # Without the writer lock the second BEGIN IMMEDIATE goes out at once and waits
    # inside SQLite; with it, nothing is sent while the first writer holds the lock.
    assert not second_sent_begin.wait(timeout=0.5)
    let_go.set()
    holder.join(timeout=20)
    waiter.join(timeout=20)
    assert second_sent_begin.is_set() and begins == ["BEGIN IMMEDIATE"] * 2
    assert not lock.locked()
    with pytest.raises(RuntimeError), transaction(factory) as session:
        session.execute(text("UPDATE t SET v = 0"))
        raise RuntimeError("roll back")
    assert not lock.locked()
    with read_transaction(factory) as session:
        assert session.execute(text("SELECT v FROM t")).scalar_one() == 3
    engine.dispose()


def test_writer_lock_wait_past_the_busy_timeout_is_database_locked(tmp_path: Path) -> None:
    """Waiting for the writer lock longer than the busy timeout fails like SQLite does
    (`database is locked`, which the API answers 503), and leaves the lock to its
    holder."""
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.db'}", busy_timeout=0.05)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
    lock = writer_lock(str(tmp_path / "busy.db"))
    assert lock.acquire(timeout=5)  # another writer of this process holds it
    try:
        with pytest.raises(OperationalError) as caught, transaction(factory) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
        assert is_overload(caught.value)
        assert lock.locked()
    finally:
        lock.release()
    with transaction(factory) as session:  # the same pooled connection writes again
        session.execute(text("INSERT INTO t VALUES (2)"))
    engine.dispose()
