"""The notification outbox: a job written with the spend request survives kill -9 of
the worker in the middle of sending and is delivered exactly once, by another process,
through a real SMTP server (aiosmtpd). Plus the outbox's own rules: dedupe keys,
fenced completion, backoff."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from capacity_helpers import LocalWallet, card_body, issue_agent_token, serve_process
from sqlalchemy import select

from linkpay.serving import free_loopback_port
from linkpay.wallet.jobs import outbox
from linkpay.wallet.store.capacity_models import OutboxJob

# Runs alone (tests/serial_gate.py): server processes killed and restarted; lease timing.
pytestmark = pytest.mark.serial


class StallingSink:
    """SMTP sink that holds the first delivery at RCPT (before any message data is
    sent, so nothing is delivered) until released; later deliveries go through."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._first = True

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802,E501
        if self._first:
            self._first = False
            self.stalled.set()
            import asyncio

            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"  # the sender is dead by now anyway
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[StallingSink, int]]:
    from aiosmtpd.controller import Controller

    handler = StallingSink()
    port = free_loopback_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def _wait_until(condition: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def _email_jobs(local: LocalWallet) -> list[OutboxJob]:
    with local.session() as db:
        return list(db.scalars(select(OutboxJob).where(OutboxJob.kind == "notify.email")))


def test_outbox_survives_kill_9_and_sends_once(
    database_url: str, tmp_path: Path, sink: tuple[StallingSink, int]
) -> None:
    from linkpay.wallet.app import open_store
    from linkpay.wallet.settings import Settings

    handler, port = sink
    env = {
        "LINKPAY_SMTP_HOST": "127.0.0.1",
        "LINKPAY_SMTP_PORT": str(port),
        "LINKPAY_SMTP_TLS": "none",
        "LINKPAY_JOB_LEASE_SECONDS": "2",
    }
    first = serve_process(tmp_path, database_url, "--no-access-log", env=env)
    settings = Settings.from_env(data_dir=tmp_path, database_url=database_url)
    engine, factory = open_store(settings)
    local = LocalWallet(settings, factory)
    try:
        email = f"outbox-{time.monotonic_ns()}@example.com"
        person = local.person(email)
        token = issue_agent_token(local, person).access_token
        with first.client(headers={"Authorization": f"Bearer {token}"}) as agent:
            created = agent.post("/spend_requests", json=card_body(request_approval=True))
        assert created.status_code == 200, created.text

        # The worker has claimed the email and is talking to SMTP: kill it right there.
        assert handler.stalled.wait(30), "the worker never started sending"
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        handler.release.set()
        [job] = [j for j in _email_jobs(local) if j.payload["to"] == email]
        assert job.state == "running" and job.attempts == 1  # leased to the dead worker

        second = serve_process(tmp_path, database_url, "--no-access-log", env=env)
        try:
            _wait_until(
                lambda: (
                    [j.state for j in _email_jobs(local) if j.payload["to"] == email] == ["done"]
                ),
                30,
                "the second process to deliver the email",
            )
        finally:
            second.process.terminate()
            second.process.wait(timeout=20)
        delivered = [m for m in handler.messages if m["To"] == email]
        assert len(delivered) == 1
        assert "purchase" in delivered[0]["Subject"]
        [job] = [j for j in _email_jobs(local) if j.payload["to"] == email]
        assert job.attempts == 2 and job.lease_token is None
    finally:
        if first.process.poll() is None:
            first.process.kill()
        engine.dispose()


@pytest.fixture
def quiet_wallet(wallet: Any) -> Any:
    """The module's wallet with its own job worker stopped, so these tests are the only
    ones claiming jobs."""
    wallet.app.state.job_worker.stop()
    return wallet


def test_dedupe_key_and_fenced_finish(quiet_wallet: Any) -> None:
    wallet = quiet_wallet
    factory = wallet.sessionmaker
    key = f"test:{time.monotonic_ns()}"
    for _ in range(2):
        with wallet.session() as db:
            outbox.enqueue(db, "test.noop", {"n": 1}, dedupe_key=key)
    with wallet.session() as db:
        rows = list(db.scalars(select(OutboxJob).where(OutboxJob.dedupe_key == key)))
    assert len(rows) == 1

    mine = outbox.claim(factory, "worker-a", limit=100, lease_seconds=0)
    [job] = [j for j in mine if j.kind == "test.noop" and j.id == rows[0].id]
    # Lease 0: already expired, so another worker takes it over...
    theirs = outbox.claim(factory, "worker-b", limit=100, lease_seconds=60)
    [taken] = [j for j in theirs if j.id == job.id]
    assert taken.attempts == 2
    # ...and the first worker can no longer record an outcome.
    with wallet.session() as db:
        assert outbox.finish(db, job) is False
    assert outbox.retry(factory, job, "late") == "pending"  # a no-op for a lost lease
    with wallet.session() as db:
        assert outbox.finish(db, taken) is True
        assert db.get(OutboxJob, job.id).state == "done"  # type: ignore[union-attr]


def test_failed_attempt_backs_off(quiet_wallet: Any) -> None:
    wallet = quiet_wallet
    factory = wallet.sessionmaker
    key = f"backoff:{time.monotonic_ns()}"
    with wallet.session() as db:
        outbox.enqueue(db, "test.fails", {}, dedupe_key=key)
    claimed = outbox.claim(factory, "worker-c", limit=100)
    [job] = [j for j in claimed if j.kind == "test.fails"]
    assert outbox.retry(factory, job, "boom") == "pending"
    with wallet.session() as db:
        row = db.get(OutboxJob, job.id)
        assert row is not None and row.last_error == "boom"
        assert (row.run_after - row.created_at).total_seconds() >= outbox.BACKOFF_SECONDS[0]
    assert job.id not in [j.id for j in outbox.claim(factory, "worker-c", limit=100)]
