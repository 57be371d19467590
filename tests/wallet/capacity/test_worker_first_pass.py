"""The job worker's first pass waits (a starting wallet answers its first requests
first), but never holds up work it is woken for, nor a stop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from linkpay.wallet.app import open_store
from linkpay.wallet.jobs import outbox
from linkpay.wallet.jobs.worker import JobWorker
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.migrations import upgrade_to_head


def _store(tmp_path: Path) -> Any:
    settings = Settings.from_env(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/w.db")
    upgrade_to_head(settings.database_url)
    return open_store(settings)


def test_a_woken_worker_runs_at_once_and_stops_at_once(tmp_path: Path) -> None:
    engine, factory = _store(tmp_path)
    ran = threading.Event()
    worker = JobWorker(factory, {"probe": lambda session, payload: ran.set()}, first_pass_after=600)
    worker.start()
    try:
        with transaction(factory) as session:
            outbox.enqueue(session, "probe", {})
        worker.wake()
        assert ran.wait(30)  # not after the 600 s first-pass delay
    finally:
        worker.stop(timeout=30)
        engine.dispose()
    assert worker._thread is not None and not worker._thread.is_alive()


def test_a_stop_during_the_first_wait_ends_the_thread(tmp_path: Path) -> None:
    engine, factory = _store(tmp_path)
    worker = JobWorker(factory, {}, first_pass_after=600)
    worker.start()
    worker.stop(timeout=30)
    engine.dispose()
    assert worker._thread is not None and not worker._thread.is_alive()


def test_a_held_first_pass_ignores_wake_ups_but_not_a_stop(tmp_path: Path) -> None:
    """`hold_first_pass` (the demo's embedded wallet): queued work waits for the hold."""
    engine, factory = _store(tmp_path)
    ran = threading.Event()
    worker = JobWorker(factory, {"probe": lambda session, payload: ran.set()}, hold_first_pass=600)
    worker.start()
    with transaction(factory) as session:
        outbox.enqueue(session, "probe", {})
    worker.wake()
    worker.stop(timeout=30)  # returns at once, not after the 600 s hold
    engine.dispose()
    assert worker._thread is not None and not worker._thread.is_alive()
    assert not ran.is_set()


def test_a_held_first_pass_runs_what_was_queued_when_the_hold_ends(tmp_path: Path) -> None:
    engine, factory = _store(tmp_path)
    ran = threading.Event()
    worker = JobWorker(factory, {"probe": lambda session, payload: ran.set()}, hold_first_pass=0.2)
    with transaction(factory) as session:
        outbox.enqueue(session, "probe", {})
    worker.start()
    try:
        assert ran.wait(30)
    finally:
        worker.stop(timeout=30)
        engine.dispose()
