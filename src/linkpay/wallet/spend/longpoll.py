"""Long-poll support: `GET /spend_requests/{id}?wait=N` returns as soon as the
request's status differs from the status at the time of the call.

Commits made by this process wake its waiters at once through `wakeups`. Changes made
by other processes or hosts arrive:

- on PostgreSQL, through LISTEN/NOTIFY (`pg_wakes`): the committing transaction
  notifies, one listening connection per process wakes the waiters of those ids;
- on SQLite, through a version poll: every `interval` seconds, one cheap primary-key
  query reads the `version` of *all* watched requests (outside any write transaction)
  and wakes the waiters whose version moved.

A woken waiter does not re-read on its own: it joins the waiters woken at the same
moment, and one thread hop settles them all (`settle`, see `spend.woken`: their rows
in one query, the answers of those whose status moved rendered in the same
transaction). An update that keeps the status just refreshes what the waiter waits
on. Thousands of waiters cost an idle coroutine each, and a burst of approvals costs a
few batches per process, not a re-read, a render and a transaction per waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
BATCH_SIZE = 50
MAX_BATCHES = 4
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
    retrieve route's `include`) in the answer once it has."""

    spend_request_id: str
    user_id: str
    status: str | None
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """A settled probe: its snapshot (None: no such request for that user), and the
    rendered answer when the status left the probe's."""

    snapshot: Snapshot | None
    answer: Any = None


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
    version: int
    event: asyncio.Event = field(default_factory=asyncio.Event)


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
        self._due: list[tuple[Probe, asyncio.Future[Outcome | None]]] = []
        self._batches: set[asyncio.Task[None]] = set()
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
                waiter.event.set()

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
                            waiter.event.set()
            await asyncio.sleep(self._interval)

    # -- batches ---------------------------------------------------------------------------
    async def _check(self, probe: Probe) -> Outcome | None:
        """Settle `probe` with whatever else is due now; None if the batch failed."""
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self._due.append((probe, future))
        if len(self._batches) < MAX_BATCHES:
            # Runs after every waiter woken in this loop iteration has queued itself.
            task = asyncio.get_running_loop().create_task(self._drain())
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)
        return await future

    async def _drain(self) -> None:
        while self._due:
            batch, self._due = self._due[:BATCH_SIZE], self._due[BATCH_SIZE:]
            probes = [probe for probe, _ in batch]
            try:
                outcomes: list[Outcome | None] = list(
                    await anyio.to_thread.run_sync(self._settle, probes)
                )
            except Exception:  # noqa: BLE001 - each waiter then renders on its own
                log.debug("long-poll batch failed; waiters answer one by one", exc_info=True)
                outcomes = [None] * len(batch)
            for (_probe, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():  # a waiter whose client went away was cancelled
                    future.set_result(outcome)

    async def long_poll(self, probe: Probe, *, timeout: float) -> Any:
        """Wait up to `timeout` seconds for the effective status to leave
        `probe.status` (or, when that is None, the status read now). Returns the
        rendered answer, or None when the caller should answer with the current state
        itself (unchanged until the timeout or the request's own deadline, not found,
        or a failed batch)."""
        end = time.monotonic() + timeout
        spend_request_id = probe.spend_request_id
        since = self._seq
        first = await self._check(probe)
        if first is None or first.snapshot is None or first.answer is not None:
            return first.answer if first is not None else None
        current = first.snapshot
        probe = replace(probe, status=current.status)
        waiter = _Waiter(version=current.version)
        local = wakeups.register(spend_request_id, waiter.event)
        self._watch(spend_request_id, waiter)
        if self._listener is not None and self._missed(spend_request_id, since):
            # A change notified between the first read and our registration: re-check.
            waiter.event.set()
        try:
            while True:
                remaining = end - time.monotonic()
                if current.deadline is not None:
                    until_deadline = (current.deadline - utcnow()).total_seconds()
                    remaining = min(remaining, until_deadline)
                if remaining <= 0:
                    # Timed out, or the deadline passed: the caller re-reads (expiry
                    # shows then).
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.event.wait(), timeout=remaining)
                waiter.event.clear()
                outcome = await self._check(probe)
                if outcome is None or outcome.snapshot is None or outcome.answer is not None:
                    return outcome.answer if outcome is not None else None
                current = outcome.snapshot
                waiter.version = current.version
        finally:
            self._unwatch(spend_request_id, waiter)
            wakeups.unregister(spend_request_id, local)
