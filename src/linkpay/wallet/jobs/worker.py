"""The job worker: a thread per wallet process that claims due outbox jobs and runs
them. Several processes and hosts can run workers on one database; a claim leases a
job to exactly one of them.

Handlers are plain functions `handler(session, payload)` keyed by job kind. A handler
runs inside a transaction that also marks the job done, so any jobs it enqueues (a
fan-out) commit together with that mark: exactly once. A handler that talks to the
outside world (SMTP, push) does so inside that transaction too; if the process dies
mid-send, the lease runs out and the job is tried again, at most once per claim.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.jobs import outbox
from linkpay.wallet.store.db import transaction

log = logging.getLogger("linkpay.wallet.jobs")

Handler = Callable[[Session, dict[str, Any]], None]


class _LeaseLost(Exception):
    """Our lease ran out and another worker claimed the job: roll back, record nothing."""


IDLE_POLL_SECONDS = 1.0
TICK_SECONDS = 5.0


class JobWorker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        handlers: dict[str, Handler],
        *,
        lease_seconds: float = outbox.DEFAULT_LEASE_SECONDS,
        poll_seconds: float = IDLE_POLL_SECONDS,
        tick: Callable[[], Any] | None = None,
        tick_seconds: float = TICK_SECONDS,
        first_pass_after: float = 0.0,
        hold_first_pass: float = 0.0,
    ) -> None:
        self._factory = factory
        self._handlers = handlers
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._token = outbox.new_token()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        # Called every `tick_seconds` on the worker thread (periodic job scheduling).
        self._tick = tick
        self._tick_seconds = tick_seconds
        self._next_tick = 0.0
        # The wallet's first pass waits a poll interval (or the first wake-up): a
        # starting process has its first requests to answer, and what the outbox holds
        # then (periodic tasks, jobs left by the last run) can wait a second.
        self._first_pass_after = first_pass_after
        # Or, when set, exactly this long, whatever is queued meanwhile (a wallet that
        # lives a few seconds, like the demo's, need not spend them on its jobs).
        self._hold_first_pass = hold_first_pass

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="linkpay-jobs", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until a pass found nothing due (tests, shutdown)."""
        self.wake()
        return self._idle.wait(timeout)

    def run_once(self) -> int:
        """Claim and run one batch; returns how many jobs were claimed."""
        jobs = outbox.claim(self._factory, self._token, lease_seconds=self._lease_seconds)
        for job in jobs:
            self._run(job)
        return len(jobs)

    def _loop(self) -> None:
        if self._hold_first_pass > 0:
            self._stop.wait(self._hold_first_pass)
            self._wake.clear()
        elif self._first_pass_after > 0:
            self._wake.wait(self._first_pass_after)
            self._wake.clear()  # the pass below sees whatever woke it
        while not self._stop.is_set():
            try:
                if self._tick is not None and time.monotonic() >= self._next_tick:
                    self._next_tick = time.monotonic() + self._tick_seconds
                    self._tick()
                claimed = self.run_once()
            except Exception:  # noqa: BLE001 - the database may be down; try again later
                log.warning("job claim failed", exc_info=True)
                claimed = 0
            if claimed:
                continue
            self._idle.set()
            self._wake.wait(self._poll_seconds)
            self._wake.clear()

    def _run(self, job: outbox.ClaimedJob) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            with transaction(self._factory) as session:
                handler(session, job.payload)
                if not outbox.finish(session, job):
                    raise _LeaseLost
        except _LeaseLost:
            log.warning("job %s lost its lease; another worker owns it now", job.id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a retry
            state = outbox.retry(self._factory, job, f"{type(exc).__name__}: {exc}")
            log.warning("job %s (%s) attempt %s failed; %s", job.id, job.kind, job.attempts, state)
