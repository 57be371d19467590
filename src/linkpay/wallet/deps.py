"""FastAPI dependencies shared by the agent API, the web app and the test network, made
so that a request costs one worker-thread hop and one database transaction.

FastAPI runs every sync dependency in a worker thread of its own (a generator
dependency in two), and a sync route in one more. So the dependencies here never touch
the database on the event loop or in a thread of their own. One that needs the
database (the agent principal, the signed-in person, the merchant, the session itself)
returns a `Deferred`; `UnitRoute`, the route class of every router, resolves the
deferred values in the route's own worker thread, inside the request's `Unit` (one
transaction), right before the route body runs, and ends the transaction right after
it: committed on success, rolled back on any error. Authentication and the route's work
read the same snapshot, and on SQLite the write lock is held only while the route runs.
That worker thread is one of `ROUTE_THREADS` (a `linkpay.thread_hop.ThreadHop`): to
FastAPI the wrapped route is a coroutine, so it adds no `anyio.to_thread` hop, the
dearer kind, of its own.

A route that takes no session (`DbDep`/`ReadDbDep`) gets its deferred values resolved in
a short read-only transaction that ends before its body runs; so does an `async` route,
in one hop, before it is awaited (a long-poll must not hold a transaction). When every
such value is one read statement (the agent's token lookup), that statement runs with
no transaction around it (`store.db.single_read`): on PostgreSQL no BEGIN and COMMIT
round trips before a create or any other route that opens its own transactions.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from linkpay.fastapi_startup import LazyAPIRoute
from linkpay.thread_hop import ThreadHop
from linkpay.wallet.notify import Notifier
from linkpay.wallet.settings import Settings
from linkpay.wallet.spend.longpoll import VersionWatcher
from linkpay.wallet.store.db import READ_ONLY_OPTION, single_read_options


class Unit:
    """The request's unit of work: a session in one transaction, begun on first use.
    Read-only (no SQLite write lock) unless a dependency asked for a writable session."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.writes = False
        self.single_read = False  # exactly one read statement: no transaction needed
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            session = self._factory()
            session.begin()
            if self.single_read and not self.writes:
                session.connection(execution_options=single_read_options(session.get_bind()))
            elif not self.writes:
                session.connection(execution_options={READ_ONLY_OPTION: True})
            self._session = session
        return self._session

    def end(self, error: BaseException | None = None) -> None:
        """Commit (or roll back after `error`) and give the connection back."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if error is None:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()


class Deferred:
    """A dependency value that needs the database: resolved by `UnitRoute` in the route's
    worker thread, inside the request's unit. Subclasses implement `resolve`; one that
    reads with exactly one statement sets `one_statement`."""

    one_statement = False

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    def resolve(self, session: Session) -> Any:
        raise NotImplementedError


class _SessionOf(Deferred):
    def resolve(self, session: Session) -> Session:
        return session


async def get_unit(request: Request) -> Unit:
    """One `Unit` per request (FastAPI caches a dependency's value within a request)."""
    return Unit(request.app.state.sessionmaker)


UnitDep = Annotated[Unit, Depends(get_unit)]


async def _writable_session(unit: UnitDep) -> Deferred:
    unit.writes = True
    return _SessionOf(unit)


async def _read_session(unit: UnitDep) -> Deferred:
    return _SessionOf(unit)


async def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


async def get_watcher(request: Request) -> VersionWatcher:
    watcher: VersionWatcher = request.app.state.spend_request_watcher
    return watcher


# A session in the request's transaction (BEGIN IMMEDIATE on SQLite: it may write).
DbDep = Annotated[Session, Depends(_writable_session)]
# A session in the request's transaction that only reads (a snapshot; no write lock).
ReadDbDep = Annotated[Session, Depends(_read_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# For the few routes that need several transactions of their own (an idempotency claim
# committed before the work; a long-poll that holds none while it waits).
SessionmakerDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
# Wakes long-polling spend request reads (one per app, built by `create_app`).
WatcherDep = Annotated[VersionWatcher, Depends(get_watcher)]


# Where routes run their sync work: as many threads as Starlette's default thread
# limiter gives `run_in_threadpool`, through a cheaper hop (`linkpay.thread_hop`).
ROUTE_THREADS = ThreadHop(40, "wallet-route")


def _deferred_in(values: dict[str, Any]) -> list[tuple[str, Deferred]]:
    return [(name, value) for name, value in values.items() if isinstance(value, Deferred)]


def _resolve(values: dict[str, Any], *, keep_open: bool) -> Unit | None:
    """Replace each deferred value by what it resolves to. Returns the unit, still open
    when `keep_open` and the route takes a session, else ended."""
    deferred = _deferred_in(values)
    if not deferred:
        return None
    unit = deferred[0][1].unit
    takes_session = any(isinstance(value, _SessionOf) for _, value in deferred)
    if not takes_session and len(deferred) == 1 and deferred[0][1].one_statement:
        unit.single_read = True
    try:
        # Sessions last, so a principal is checked before the route sees the session.
        for name, value in sorted(deferred, key=lambda item: isinstance(item[1], _SessionOf)):
            values[name] = value.resolve(unit.session)
    except BaseException as exc:
        unit.end(exc)
        raise
    if keep_open and takes_session:
        return unit
    unit.end()
    return None


def in_unit(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a route function so its deferred dependencies resolve in its own hop."""
    if getattr(endpoint, "_in_unit", False):
        return endpoint
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(**values: Any) -> Any:
            if _deferred_in(values):
                await ROUTE_THREADS.run(_resolve, values, keep_open=False)
            return await endpoint(**values)

        run_async._in_unit = True  # type: ignore[attr-defined]
        return run_async

    def run(values: dict[str, Any]) -> Any:
        unit = _resolve(values, keep_open=True)
        if unit is None:
            return endpoint(**values)
        try:
            result = endpoint(**values)
        except BaseException as exc:
            unit.end(exc)
            raise
        unit.end()
        return result

    # A sync route runs in `ROUTE_THREADS`, so FastAPI sees a coroutine and adds no
    # hop of its own.
    @functools.wraps(endpoint)
    async def run_in_thread(**values: Any) -> Any:
        return await ROUTE_THREADS.run(run, values)

    run_in_thread._in_unit = True  # type: ignore[attr-defined]
    return run_in_thread


class UnitRoute(LazyAPIRoute):
    """The route class of every wallet router: runs the route with `in_unit`; analysed
    by FastAPI on its first request (see `linkpay.fastapi_startup`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_unit(endpoint), **kwargs)
