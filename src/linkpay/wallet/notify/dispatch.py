"""A small background sender: jobs run on a few daemon threads (so one slow SMTP server
does not hold up web push), a job that raises is logged and retried after the
configured delays, and the caller never waits. Good enough for one
wallet process; notifications are best-effort by nature (the approval page is the source
of truth, the agent gets the approval URL too).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("linkpay.wallet.notify")


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    name: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Dispatcher:
    def __init__(self, retry_delays: Sequence[float] = (2, 10, 60), workers: int = 3) -> None:
        self.retry_delays = tuple(retry_delays)
        self.workers = max(1, workers)
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._stopped = False
        self._threads: list[threading.Thread] = []
        # Counters for tests and the status page.
        self.sent = 0
        self.failed_attempts = 0
        self.given_up = 0

    def submit(self, name: str, run: Callable[[], None], *, delay: float = 0.0) -> None:
        """Queue `run` (never raises, never blocks on the work itself)."""
        with self._cond:
            if self._stopped:
                log.warning("notification %s dropped: dispatcher stopped", name)
                return
            heapq.heappush(self._heap, _Job(time.monotonic() + delay, next(self._seq), name, run))
            self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        busy = self._running + len(self._heap)
        if len(self._threads) < min(self.workers, busy):
            thread = threading.Thread(target=self._loop, name="linkpay-notify", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._heap or self._heap[0].due > time.monotonic()
                ):
                    timeout = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                job = heapq.heappop(self._heap)
                self._running += 1
            try:
                job.run()
            except Exception as exc:  # a channel failed: log (no secrets) and retry
                self._retry(job, exc)
            else:
                with self._cond:
                    self.sent += 1
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _retry(self, job: _Job, exc: Exception) -> None:
        with self._cond:
            self.failed_attempts += 1
            if job.attempt < len(self.retry_delays):
                delay = self.retry_delays[job.attempt]
                log.warning(
                    "notification %s failed (%s); retry %d in %ss",
                    job.name,
                    type(exc).__name__,
                    job.attempt + 1,
                    delay,
                )
                job.attempt += 1
                job.due = time.monotonic() + delay
                job.seq = next(self._seq)
                heapq.heappush(self._heap, job)
            else:
                self.given_up += 1
                log.error(
                    "notification %s failed %d times (%s); giving up",
                    job.name,
                    job.attempt + 1,
                    type(exc).__name__,
                )

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or running (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
