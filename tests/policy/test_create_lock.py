"""The create locks themselves on PostgreSQL (`policy.create_lock`): side-by-side
creates are bounded per wallet, and a create near a limit waits for all of them.
Its own module, so the two server processes of the parallel-create tests are gone
before it opens its connections."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

# Runs alone (tests/serial_gate.py): holds many PostgreSQL connections at once.
pytestmark = pytest.mark.serial


def _waiting_on_a_lock(engine: Any, pid: int) -> bool:
    from sqlalchemy import text

    with engine.connect() as conn:
        kind = conn.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()
    return kind == "Lock"


def _eventually(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.only_database("postgres")
def test_side_by_side_creates_are_bounded_and_an_exact_one_waits(
    wallet: Any, database_url: str
) -> None:
    """The locks themselves: with room known to be large, CREATE_SLOTS creates hold the
    wallet lock shared at once; one more queues for a slot; a create near a limit (the
    wallet lock, exclusive) waits until every side-by-side one has committed."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from linkpay.wallet.policy import create_lock, ledger
    from linkpay.wallet.store.db import make_engine

    person = f"usr_locks_{secrets.token_hex(4)}"
    create_lock.remember_room(person, "fam_a", 1_000)  # plenty of room
    engine = make_engine(database_url, pool_size=create_lock.CREATE_SLOTS + 4)
    sessions = [Session(engine) for _ in range(create_lock.CREATE_SLOTS + 2)]
    pids = [int(s.execute(text("SELECT pg_backend_pid()")).scalar_one()) for s in sessions]
    try:
        holders, extra, exact = sessions[:-2], sessions[-2], sessions[-1]
        assert all(create_lock.lock(s, person, "fam_a") for s in holders)  # none waited
        with ThreadPoolExecutor(max_workers=2) as pool:
            queued = pool.submit(create_lock.lock, extra, person, "fam_a")
            _eventually(lambda: _waiting_on_a_lock(engine, pids[-2]), "no 9th slot queue")
            waiting = pool.submit(ledger.lock_wallet, exact, person)
            _eventually(lambda: _waiting_on_a_lock(engine, pids[-1]), "exclusive didn't wait")
            for session in holders:
                assert not waiting.done()
                session.commit()
            assert queued.result(timeout=30) is True  # a slot freed up
            assert not waiting.done()  # the 9th still holds the wallet lock shared
            extra.commit()
            waiting.result(timeout=30)
        exact.commit()
    finally:
        for session in sessions:
            session.close()
        engine.dispose()
