"""Engine and session setup for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode and takes the write lock at BEGIN (`BEGIN IMMEDIATE`, after
queueing on the process's writer lock: `sqlite_writer`), because it ignores
`SELECT … FOR UPDATE`; together with conditional updates
(`UPDATE … WHERE status = … RETURNING`) every race has exactly one winner on both
databases.

`read_transaction` is for units of work that only read (the bearer-token lookup): on
SQLite it begins with a plain deferred `BEGIN`, so it reads a WAL snapshot without
queueing for the write lock behind every writer (and without making writers queue
behind it). Every other transaction still takes the write lock at BEGIN.
"""

import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.store.sqlite_writer import begin_immediate, connect_args

# Connection execution option marking a read-only unit of work (see `read_transaction`).
READ_ONLY_OPTION = "linkpay_read_only"
# Connection execution option: the connection runs one read statement and nothing else
# (see `single_read`); on SQLite it then needs no BEGIN at all.
SINGLE_READ_OPTION = "linkpay_single_read"


def normalize_database_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` and use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


SQLITE_POOL_SIZE = 40
# How long a SQLite writer waits for the write lock before `database is locked` (503).
DEFAULT_BUSY_TIMEOUT_SECONDS = 10.0


def _is_sqlite_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        busy_ms = int(kwargs.pop("busy_timeout", DEFAULT_BUSY_TIMEOUT_SECONDS) * 1000)
        path = make_url(url).database if _is_sqlite_file(url) else None
        if path is not None:
            # Keep a connection per worker thread (AnyIO's pool has 40) instead of the
            # default 5: every connection beyond the pool was closed on return and
            # reopened (connect + PRAGMAs) on the next request under concurrent load.
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, connect_args=connect_args(path, busy_ms / 1000), **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself
            # synchronous=NORMAL is durable across application crashes in WAL mode and
            # saves an fsync per commit.
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                f"busy_timeout={busy_ms}",
            ):
                dbapi_conn.execute(f"PRAGMA {pragma}")

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            options = conn.get_execution_options()
            if options.get(SINGLE_READ_OPTION):
                return  # one statement in autocommit mode: its own snapshot
            if options.get(READ_ONLY_OPTION):
                conn.exec_driver_sql("BEGIN")  # deferred: a snapshot reader
            else:
                begin_immediate(conn, busy_ms / 1000)

        return engine
    kwargs.setdefault("pool_size", postgres_pool_size(1))
    kwargs.setdefault("max_overflow", 0)  # a hard cap, so the budget below holds
    kwargs.setdefault("pool_timeout", DEFAULT_POOL_TIMEOUT_SECONDS)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _drop_if_ended)
    return engine


def _drop_if_ended(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout on PostgreSQL: discard a connection the server has ended, and
    let the pool hand out a fresh one (SQLAlchemy's contract for DisconnectionError).

    Instead of `pool_pre_ping` (one round trip on every checkout: ~0.1 ms of CPU here
    and a wake-up of the server process, for every transaction), this looks at the
    socket: an idle pooled connection receives nothing, unless the server ended it
    (restart, `pg_terminate_backend`, idle timeout), which leaves a final error
    message and end-of-file to read. A peer that vanished without a word (a host that
    lost power) leaves nothing to read; the next statement then fails and is answered
    503 (`wallet.overload`), where the ping would have hung on it as long."""
    from psycopg import DatabaseError  # loaded already: the engine's driver

    try:
        ended = bool(dbapi_connection.closed)
        if not ended:
            poller = select.poll()  # not select(): socket numbers may pass 1024
            poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
            ended = bool(poller.poll(0))
    except (OSError, DatabaseError):  # psycopg: "the connection is lost"
        ended = True
    if ended:
        raise DisconnectionError("PostgreSQL ended this pooled connection")


# PostgreSQL allows 100 connections by default (3 reserved for superusers). A host
# spends at most this many, leaving room for migrations, `link-wallet` commands, psql.
DEFAULT_CONNECTION_BUDGET = 80
MAX_POOL_SIZE = 20
# A request that waits this long for a pooled connection gets 503 + Retry-After.
DEFAULT_POOL_TIMEOUT_SECONDS = 5.0


def postgres_pool_size(workers: int, budget: int = DEFAULT_CONNECTION_BUDGET) -> int:
    """Connections each worker process may pool on PostgreSQL:

        pool_size = clamp(budget // workers - 1, 2, 20)

    `budget` is what one host may spend (`LINKPAY_DB_CONNECTION_BUDGET`); the `- 1` is
    each worker's LISTEN connection for long-poll wakes. With several hosts, give each
    host `budget = (max_connections - reserve) // hosts`."""
    per_worker = budget // max(1, workers) - 1
    return max(2, min(MAX_POOL_SIZE, per_worker))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def single_read_options(engine: Engine | Connection) -> dict[str, Any]:
    """Execution options of a connection that runs exactly one read statement (see
    `single_read`); also for a session's connection (`Session.connection`)."""
    if engine.dialect.name == "sqlite":
        return {SINGLE_READ_OPTION: True}
    return {"isolation_level": "AUTOCOMMIT"}


def single_read(engine: Engine) -> Connection:
    """A connection for exactly one read statement (use it as a context manager). A
    lone statement reads one consistent snapshot on its own, so no transaction is
    opened around it: on PostgreSQL that saves the BEGIN and ROLLBACK round trips (and
    most of the server's work for a short read), on SQLite the BEGIN."""
    return engine.connect().execution_options(**single_read_options(engine))


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads. On SQLite it does not take the write lock (a
    deferred BEGIN); never write in it: use `transaction` for anything that might."""
    with factory() as session, session.begin():
        session.connection(execution_options={READ_ONLY_OPTION: True})
        yield session
