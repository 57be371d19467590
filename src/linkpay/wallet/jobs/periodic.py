"""Periodic jobs that run once per period across every worker process and host.

A task registers a name, a period and a function `run(session, settings)`. Each worker
looks every few seconds which tasks' current period has no job yet and enqueues one
into the outbox with the dedupe key `periodic:<name>:<period number>`. Every replica
computes the same key, so the unique index lets exactly one enqueue win, and the
outbox lease gives that job to exactly one worker: once per period, cluster-wide, with
the outbox's retries. Other features add tasks with `register_periodic` (the issuer
reconcile can run this way).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.jobs import outbox
from linkpay.wallet.jobs.worker import Handler
from linkpay.wallet.store.capacity_models import OutboxJob
from linkpay.wallet.store.db import read_transaction, transaction

KIND = "periodic"
Task = Callable[[Session, Any], Any]


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    every_seconds: float
    run: Task


_TASKS: dict[str, PeriodicTask] = {}


def register_periodic(name: str, every_seconds: float, run: Task) -> None:
    """Run `run(session, settings)` once every `every_seconds` across all replicas (in
    a transaction of its own; an exception retries it with the outbox's backoff)."""
    _TASKS[name] = PeriodicTask(name, every_seconds, run)


def registered() -> dict[str, PeriodicTask]:
    return dict(_TASKS)


def _key(task: PeriodicTask, now: float) -> str:
    return f"periodic:{task.name}:{int(now // task.every_seconds)}"


def schedule_due(factory: sessionmaker[Session], now: float | None = None) -> int:
    """Enqueue this period's job of every task that has none yet; returns how many
    this call added (a plain read when all are there: no write lock)."""
    now = time.time() if now is None else now
    wanted = {_key(task, now): task for task in _TASKS.values()}
    if not wanted:
        return 0
    with read_transaction(factory) as session:
        present = set(
            session.scalars(select(OutboxJob.dedupe_key).where(OutboxJob.dedupe_key.in_(wanted)))
        )
    missing = {key: task for key, task in wanted.items() if key not in present}
    if missing:
        with transaction(factory) as session:
            for key, task in missing.items():
                outbox.enqueue(session, KIND, {"name": task.name}, dedupe_key=key)
    return len(missing)


def handler(settings: Any) -> Handler:
    def run(session: Session, payload: dict[str, Any]) -> None:
        task = _TASKS.get(payload["name"])
        if task is not None:  # a task no longer registered: nothing to do
            task.run(session, settings)

    return run
