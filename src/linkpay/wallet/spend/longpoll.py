"""Long-poll support: `GET /spend_requests/{id}?wait=N` returns as soon as the
request's status differs from the status at the time of the call.

Commits made by this process wake its waiters at once through `wakeups`. Changes made
by other processes or hosts arrive:

- on PostgreSQL, through LISTEN/NOTIFY (`pg_wakes`): the committing transaction
  notifies, one listening connection per process wakes the waiters of those ids;
- on SQLite, through a version poll: every `interval` seconds, one cheap primary-key
  query reads the `version` of *all* watched requests (outside any write transaction)
  and wakes the waiters whose version moved.

A woken waiter re-reads the request and returns only if the effective status changed
(an update that keeps the status just refreshes what it waits on). Thousands of
waiters cost an idle coroutine each.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine

from linkpay.wallet.spend import wakeups
from linkpay.wallet.spend.pg_wakes import Listener
from linkpay.wallet.store.models import utcnow

POLL_INTERVAL_SECONDS = 0.05
MAX_WAIT_SECONDS = 30
_CHUNK = 500


@dataclass(frozen=True)
class Snapshot:
    """What a waiter knows: the effective status, the row version it was read at, and
    when the status would turn `expired` by itself."""

    status: str
    version: int
    deadline: datetime | None


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
    poll (while anyone waits) on SQLite. One per app."""

    def __init__(self, engine: Engine, interval: float = POLL_INTERVAL_SECONDS) -> None:
        self._engine = engine
        self._interval = interval
        self._waiters: dict[str, set[_Waiter]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listener = (
            Listener(engine, self._changed) if engine.dialect.name == "postgresql" else None
        )

    def _watch(self, spend_request_id: str, waiter: _Waiter) -> None:
        self._waiters.setdefault(spend_request_id, set()).add(waiter)
        if self._listener is not None:
            self._listener.ensure_started()
        elif self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _changed(self, ids: list[str] | None) -> None:
        """From the listener (on the event loop): these ids changed, or None = any."""
        targets = self._waiters if ids is None else ids
        for spend_request_id in list(targets):
            for waiter in self._waiters.get(spend_request_id, ()):
                waiter.event.set()

    async def start(self) -> None:
        """Start listening now (PostgreSQL), so the first waiter misses nothing."""
        if self._listener is not None:
            self._listener.ensure_started()
            await asyncio.wait_for(self._listener.connected.wait(), timeout=10)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

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

    async def wait_for_status_change(
        self,
        spend_request_id: str,
        initial: Snapshot,
        *,
        timeout: float,
        reread: Callable[[], Snapshot | None],
    ) -> Snapshot:
        """Wait up to `timeout` seconds for the effective status to leave
        `initial.status`. `reread` (blocking; run in a thread) returns a fresh
        Snapshot. Returns the last snapshot seen."""
        end = time.monotonic() + timeout
        current = initial
        waiter = _Waiter(version=initial.version)
        local = wakeups.register(spend_request_id, waiter.event)
        self._watch(spend_request_id, waiter)
        if self._listener is not None:
            # A change that committed between the caller's snapshot and our
            # registration notified nobody: re-read once now to close that gap.
            waiter.event.set()
        try:
            while True:
                remaining = end - time.monotonic()
                if current.deadline is not None:
                    until_deadline = (current.deadline - utcnow()).total_seconds()
                    remaining = min(remaining, until_deadline)
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.event.wait(), timeout=remaining)
                waiter.event.clear()
                fresh = await anyio.to_thread.run_sync(reread)
                if fresh is None:
                    return current
                current = fresh
                waiter.version = fresh.version
                if fresh.status != initial.status:
                    return fresh
            # Timed out, or the deadline passed: the caller re-reads (expiry shows then).
            return current
        finally:
            self._unwatch(spend_request_id, waiter)
            wakeups.unregister(spend_request_id, local)
