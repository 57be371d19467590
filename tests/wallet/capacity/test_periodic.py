"""Periodic jobs run once per period however many replicas schedule them, and the
built-in `expire` task persists due expiries and shreds expired credentials' secrets."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from capacity_helpers import card_body
from sqlalchemy import select, update

from linkpay.wallet.jobs import outbox, periodic
from linkpay.wallet.jobs.maintenance import expire_due
from linkpay.wallet.store.capacity_models import OutboxJob
from linkpay.wallet.store.models import Credential, SpendRequest, utcnow


@pytest.fixture
def quiet_wallet(wallet: Any) -> Any:
    """The module's wallet with its job worker stopped: the test plays the replicas."""
    wallet.app.state.job_worker.stop()
    return wallet


def test_each_period_is_scheduled_once_across_replicas(quiet_wallet: Any) -> None:
    ran: list[str] = []
    name = f"test-task-{time.monotonic_ns()}"
    periodic.register_periodic(name, 3600, lambda session, settings: ran.append(name))
    try:
        now = time.time()
        # Three replicas look at the same moment, then again later in the same period.
        added = [periodic.schedule_due(quiet_wallet.sessionmaker, now) for _ in range(3)]
        added.append(periodic.schedule_due(quiet_wallet.sessionmaker, now + 1))
        with quiet_wallet.session() as db:
            jobs = list(
                db.scalars(select(OutboxJob).where(OutboxJob.dedupe_key.like(f"periodic:{name}:%")))
            )
        assert len(jobs) == 1 and sum(added) >= 1
        # The next period gets its own job.
        periodic.schedule_due(quiet_wallet.sessionmaker, now + 3600)
        with quiet_wallet.session() as db:
            count = len(
                list(
                    db.scalars(
                        select(OutboxJob.id).where(OutboxJob.dedupe_key.like(f"periodic:{name}:%"))
                    )
                )
            )
        assert count == 2
        # Two workers claim: each job goes to one of them and runs once.
        handler = periodic.handler(quiet_wallet.settings)
        for token in ("replica-a", "replica-b"):
            for job in outbox.claim(quiet_wallet.sessionmaker, token, limit=100):
                with quiet_wallet.session() as db:
                    if job.kind == periodic.KIND:
                        handler(db, job.payload)
                    assert outbox.finish(db, job)
        assert ran == [name, name]
    finally:
        periodic._TASKS.pop(name, None)


def test_expire_task_persists_expiry_and_shreds(quiet_wallet: Any, person: str, agent: Any) -> None:
    created = agent.post("/spend_requests", json=card_body(request_approval=True)).json()
    quiet_wallet.approve(created["id"], person)
    past = utcnow() - timedelta(seconds=5)
    with quiet_wallet.session() as db:
        db.execute(
            update(SpendRequest)
            .where(SpendRequest.id == created["id"])
            .values(credential_valid_until=past)
        )
        db.execute(
            update(Credential)
            .where(Credential.spend_request_id == created["id"])
            .values(valid_until=past)
        )
    with quiet_wallet.session() as db:
        assert expire_due(db, quiet_wallet.settings) >= 1
    with quiet_wallet.session() as db:
        row = db.get(SpendRequest, created["id"])
        credential = db.scalars(
            select(Credential).where(Credential.spend_request_id == created["id"])
        ).one()
    assert row is not None and row.status == "expired"
    assert credential.secret_ciphertext is None
