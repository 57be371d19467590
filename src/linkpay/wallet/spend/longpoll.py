"""Long-poll support: `GET /spend_requests/{id}?wait=N` returns as soon as the
request's status differs from the status at the time of the call.

Commits made by this process wake its waiters at once through `wakeups`. Changes made
by other processes or hosts arrive:

- on PostgreSQL, through LISTEN/NOTIFY (`pg_wakes`): the committing transaction
  notifies, one listening connection per process wakes the waiters of those ids;
- on SQLite, through a version poll: every `interval` seconds, one cheap primary-key
  query reads the `version` of *all* watched requests (outside any write transaction)
  and wakes the waiters whose version moved.

A wake does not resume the waiting coroutine: the watcher queues the waiters of the
changed ids, and one thread hop settles every waiter queued at that moment (`settle`,
see `spend.woken`: their rows in one query, the answers of those whose status moved
rendered in the same transaction). Only a waiter with an answer is resumed; an update
that keeps the status just refreshes what it waits on. Thousands of waiters cost an
idle coroutine each, and a burst of approvals costs a few batches per process, not a
task switch, a re-read, a render and a transaction per waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine

from linkpay.wallet.spend import wakeups
from linkpay.wallet.spend.pg_wakes import Listener
from linkpay.wallet.store.models import utcnow

log = logging.getLogger("linkpay.wallet.spend")

POLL_INTERVAL_SECONDS = 0.05
MAX_WAIT_SECONDS = 30
_CHUNK = 500
# Waiters settled per thread hop, and batches in flight at once per process.
BATCH_SIZE = 100
MAX_BATCHES = 2
# Ids whose NOTIFY arrived recently (see `_missed`); older ones count as "maybe changed".
_RECENT_IDS = 4096


@dataclass(frozen=True)
class Snapshot:
    """What a waiter knows: the effective status, the row version it was read at, and
    when the status would turn `expired` by itself."""

    status: str
    version: int
    deadline: datetime | None


@dataclass(frozen=True)
class Probe:
    """A long-poll's question: has `spend_request_id` (of `user_id`) left `status`?
    `status=None` only reads the current state. `include` is what to reveal (as the
    retrieve route's `include`) in the answer once it has (or once `final`)."""

    spend_request_id: str
    user_id: str
    status: str | None
    include: tuple[str, ...] = ()
    final: bool = False  # answer with the current state, moved or not (a timed-out wait)


@dataclass(frozen=True)
class Outcome:
    """A settled probe: its snapshot (None: no such request for that user), and the
    rendered answer (the JSON body) when the status left the probe's."""

    snapshot: Snapshot | None
    answer: bytes | None = None


# Blocking (run in a worker thread): one Outcome per probe, in order.
Settle = Callable[[list[Probe]], list[Outcome]]


def read_versions(engine: Engine, ids: list[str]) -> dict[str, int]:
    """`{id: version}` via a raw DBAPI connection: a plain autocommit read on SQLite
    (no BEGIN IMMEDIATE), a read-only transaction rolled back at once on PostgreSQL."""
    placeholder = "?" if engine.dialect.name == "sqlite" else "%s"
    found: dict[str, int] = {}
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join([placeholder] * len(chunk))
            cursor.execute(f"SELECT id, version FROM spend_requests WHERE id IN ({marks})", chunk)
            found.update({row[0]: int(row[1]) for row in cursor.fetchall()})
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return found


@dataclass(eq=False)  # waiters live in sets: hash by identity
class _Waiter:
    """A long-poll. `signal` resolves when it is finished (`answer` holds the result),
    when its deadline moved, or after any check while `eager` (its first read, or a
    check it waits for past its deadline). One check at a time: a wake while one is
    in flight (`in_flight`) asks for another after it (`recheck`)."""

    probe: Probe
    signal: asyncio.Future[None]
    status: str | None = None
    version: int = 0
    deadline: datetime | None = None
    finished: bool = False
    answer: bytes | None = None
    eager: bool = True
    queued: bool = False
    in_flight: bool = False
    recheck: bool = False


class VersionWatcher:
    """Wakes waiters on changes from other processes: LISTEN on PostgreSQL, a version
    poll (while anyone waits) on SQLite. One per app; `settle` answers woken waiters
    in batches."""

    def __init__(
        self, engine: Engine, settle: Settle, interval: float = POLL_INTERVAL_SECONDS
    ) -> None:
        self._engine = engine
        self._settle = settle
        self._interval = interval
        self._waiters: dict[str, set[_Waiter]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listener = (
            Listener(engine, self._changed) if engine.dialect.name == "postgresql" else None
        )
        self._due: list[_Waiter] = []
        self._batches: set[asyncio.Task[None]] = set()
        self._draining = 0
        # Change notices counted, so a waiter can tell whether one arrived between its
        # first read and its registration (see `_missed`).
        self._seq = 0
        self._recent: OrderedDict[str, int] = OrderedDict()
        self._forgotten_up_to = 0  # notices at or below this seq are no longer in _recent
        self._any_changed_at = 0  # the last "anything may have changed" (a reconnect)

    def _watch(self, spend_request_id: str, waiter: _Waiter) -> None:
        self._waiters.setdefault(spend_request_id, set()).add(waiter)
        if self._listener is not None:
            self._listener.ensure_started()
        elif self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _changed(self, ids: list[str] | None) -> None:
        """From the listener (on the event loop): these ids changed, or None = any."""
        self._seq += 1
        if ids is None:
            self._any_changed_at = self._seq
            targets: Any = self._waiters
        else:
            targets = ids
            for spend_request_id in ids:
                self._recent[spend_request_id] = self._seq
                self._recent.move_to_end(spend_request_id)
            while len(self._recent) > _RECENT_IDS:
                _id, seq = self._recent.popitem(last=False)
                self._forgotten_up_to = max(self._forgotten_up_to, seq)
        for spend_request_id in list(targets):
            for waiter in self._waiters.get(spend_request_id, ()):
                self._enqueue(waiter)

    def _missed(self, spend_request_id: str, since: int) -> bool:
        """Might a change notice for this id have arrived after `since` (while the
        waiter was not registered yet)?"""
        return (
            self._any_changed_at > since
            or self._forgotten_up_to > since
            or self._recent.get(spend_request_id, 0) > since
        )

    async def start(self) -> None:
        """Start listening now (PostgreSQL), so the first waiter misses nothing."""
        if self._listener is not None:
            self._listener.ensure_started()
            await asyncio.wait_for(self._listener.connected.wait(), timeout=10)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        for task in [self._task, *self._batches]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _unwatch(self, spend_request_id: str, waiter: _Waiter) -> None:
        waiters = self._waiters.get(spend_request_id)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._waiters[spend_request_id]

    async def _run(self) -> None:
        while self._waiters:
            ids = list(self._waiters)
            try:
                versions = await anyio.to_thread.run_sync(read_versions, self._engine, ids)
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next tick
                versions = None
            if versions is not None:
                for spend_request_id in ids:
                    current = versions.get(spend_request_id)
                    for waiter in list(self._waiters.get(spend_request_id, ())):
                        if current != waiter.version:
                            self._enqueue(waiter)
            await asyncio.sleep(self._interval)

    # -- batches ---------------------------------------------------------------------------
    def _enqueue(self, waiter: _Waiter) -> None:
        """Re-check `waiter` in the next batch (once, however often it is woken)."""
        if waiter.queued or waiter.finished:
            return
        if waiter.in_flight:  # checked again once this check is back (never two at once)
            waiter.recheck = True
            return
        waiter.queued = True
        self._due.append(waiter)
        if self._draining < MAX_BATCHES:
            # Runs after everything woken in this loop iteration has been queued.
            self._draining += 1  # counted now, uncounted the moment it stops taking work
            task = asyncio.get_running_loop().create_task(self._drain())
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _drain(self) -> None:
        try:
            await self._drain_due()
        finally:
            self._draining -= 1

    async def _drain_due(self) -> None:
        while self._due:
            batch, self._due = self._due[:BATCH_SIZE], self._due[BATCH_SIZE:]
            for waiter in batch:
                # A wake from now on may postdate what this batch reads: check again.
                waiter.queued, waiter.in_flight = False, True
            try:
                outcomes: list[Outcome | None] = list(
                    await anyio.to_thread.run_sync(self._settle, [w.probe for w in batch])
                )
            except Exception:  # noqa: BLE001 - each waiter then renders on its own
                log.debug("long-poll batch failed; waiters answer one by one", exc_info=True)
                outcomes = [None] * len(batch)
            for waiter, outcome in zip(batch, outcomes, strict=True):
                waiter.in_flight = False
                self._settled(waiter, outcome)
                if waiter.recheck:
                    waiter.recheck = False
                    self._enqueue(waiter)

    def _settled(self, waiter: _Waiter, outcome: Outcome | None) -> None:
        if outcome is None or outcome.snapshot is None or outcome.answer is not None:
            waiter.finished = True
            waiter.answer = outcome.answer if outcome is not None else None
        else:  # the status stays: wait on, from what was read now
            snapshot = outcome.snapshot
            moved = snapshot.deadline != waiter.deadline
            waiter.status, waiter.version = snapshot.status, snapshot.version
            waiter.deadline = snapshot.deadline
            if not (moved or waiter.eager):
                return  # nothing for the waiting coroutine to do
        if not waiter.signal.done():
            waiter.signal.set_result(None)

    async def long_poll(self, probe: Probe, *, timeout: float) -> bytes | None:
        """Wait up to `timeout` seconds for the effective status to leave
        `probe.status` (or, when that is None, the status read now). Returns the
        rendered answer (the current state once the timeout or the request's own
        deadline passed), or None when the caller should answer itself (not found, or
        a failed batch)."""
        end = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        since = self._seq
        waiter = _Waiter(probe, loop.create_future())
        self._enqueue(waiter)  # the first read, in a batch with whatever else is due
        await waiter.signal
        if waiter.finished:
            return waiter.answer
        # From here on: wait for a change from the status just read.
        waiter.probe = replace(probe, status=waiter.status)
        waiter.eager = False
        spend_request_id = probe.spend_request_id
        local = wakeups.register(spend_request_id, lambda: self._enqueue(waiter))
        self._watch(spend_request_id, waiter)
        if self._listener is not None and self._missed(spend_request_id, since):
            self._enqueue(waiter)  # a change notified before we registered: re-check
        try:
            while True:
                remaining = end - time.monotonic()
                if waiter.deadline is not None:
                    until_deadline = (waiter.deadline - utcnow()).total_seconds()
                    remaining = min(remaining, until_deadline)
                waiter.signal = loop.create_future()
                if remaining > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waiter.signal, timeout=remaining)
                elif waiter.queued or waiter.in_flight:
                    # Past the deadline with a re-check under way: take its answer
                    # (it may have revealed a credential) rather than render another.
                    waiter.eager = True
                    await waiter.signal
                else:
                    # Timed out, or the deadline passed: the answer is the current
                    # state (expiry shows then), read and rendered in a batch too, so
                    # a thousand polls timing out together are not a thousand
                    # transactions.
                    waiter.probe = replace(waiter.probe, final=True)
                    waiter.eager = True
                    self._enqueue(waiter)
                    await waiter.signal
                    return waiter.answer  # None (not found, failed batch): the route's
                if waiter.finished:
                    return waiter.answer
        finally:
            self._unwatch(spend_request_id, waiter)
            wakeups.unregister(spend_request_id, local)
