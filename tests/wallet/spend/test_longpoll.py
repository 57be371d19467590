"""Long-poll: `GET /spend_requests/{id}?wait=N` answers as soon as the status changes
(also when another *process* made the change: the watcher polls the database), or
after N seconds unchanged. Latencies are measured and printed, not asserted against a
tight wall-clock bound (the issue's "within 100 ms" is checked by reading them)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from spend_helpers import create, pending, set_columns

from linkpay.wallet.store.models import utcnow

_APPROVER = textwrap.dedent(
    """
    import sys, time
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.store.db import make_engine, make_sessionmaker, transaction
    from linkpay.wallet.spend import service

    url, data_dir, user_id, spend_request_id = sys.argv[1:5]
    settings = Settings.from_env(database_url=url, data_dir=data_dir)
    factory = make_sessionmaker(make_engine(url))
    print("ready", flush=True)
    sys.stdin.readline()
    with transaction(factory) as session:
        service.approve_spend_request(
            session, user_id=user_id, spend_request_id=spend_request_id, settings=settings
        )
    print(repr(time.time()), flush=True)
    """
)


class _Wait:
    """A long-poll running in a thread; `.response` and `.received_at` once done."""

    def __init__(self, agent: Any, spend_request_id: str, wait: int) -> None:
        self.response: Any = None
        self.received_at = 0.0
        self.started_at = time.time()
        self._thread = threading.Thread(
            target=self._run, args=(agent, spend_request_id, wait), daemon=True
        )
        self._thread.start()

    def _run(self, agent: Any, spend_request_id: str, wait: int) -> None:
        self.response = agent.get(f"/spend_requests/{spend_request_id}", params={"wait": wait})
        self.received_at = time.time()

    def join(self, timeout: float = 40) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "long-poll did not return"


def _wait_until_watching(wallet: Any, spend_request_id: str) -> None:
    """Block until the server-side waiter is registered (a condition, not a sleep)."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        watcher = getattr(wallet.app.state, "spend_request_watcher", None)
        if watcher is not None and spend_request_id in watcher._waiters:
            return
        time.sleep(0.005)
    raise AssertionError("the long-poll never started waiting")


def _report(capsys: Any, label: str, latency: float) -> None:
    with capsys.disabled():
        print(f"\n[long-poll] {label}: returned {latency * 1000:.1f} ms after the commit")


def test_returns_on_approval_from_another_process(
    wallet: Any, agent: Any, person: str, database_url: str, capsys: Any
) -> None:
    request = pending(agent)
    approver = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _APPROVER,
            database_url,
            str(wallet.settings.data_dir),
            person,
            request["id"],
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert approver.stdout is not None and approver.stdin is not None
        assert approver.stdout.readline().strip() == "ready"
        waiting = _Wait(agent, request["id"], wait=10)
        _wait_until_watching(wallet, request["id"])
        approver.stdin.write("go\n")
        approver.stdin.flush()
        committed_at = float(approver.stdout.readline())
        waiting.join()
    finally:
        approver.wait(timeout=30)
    assert approver.returncode == 0
    assert waiting.response.status_code == 200
    assert waiting.response.json()["status"] == "approved"
    latency = waiting.received_at - committed_at
    assert waiting.received_at - waiting.started_at < 10  # before the timeout, not at it
    _report(capsys, f"{database_url.split(':')[0]} approval in another process", latency)


def test_returns_on_change_in_this_process(
    wallet: Any, agent: Any, person: str, capsys: Any
) -> None:
    request = pending(agent)
    waiting = _Wait(agent, request["id"], wait=10)
    _wait_until_watching(wallet, request["id"])
    wallet.approve(request["id"], person)
    committed_at = time.time()
    waiting.join()
    assert waiting.response.json()["status"] == "approved"
    assert waiting.received_at - waiting.started_at < 10
    _report(capsys, "approval in the same process", waiting.received_at - committed_at)


def test_returns_unchanged_after_wait(agent: Any) -> None:
    request = pending(agent)
    started = time.monotonic()
    answer = agent.get(f"/spend_requests/{request['id']}", params={"wait": 1})
    assert time.monotonic() - started >= 1.0
    assert answer.status_code == 200
    assert answer.json()["status"] == "pending_approval"


def test_update_keeping_status_does_not_end_the_wait(wallet: Any, agent: Any) -> None:
    request = pending(agent)
    waiting = _Wait(agent, request["id"], wait=1)
    _wait_until_watching(wallet, request["id"])
    changed = agent.post(
        f"/spend_requests/{request['id']}",
        json={"amount": 2500, "totals": [{"type": "total", "amount": 2500}]},
    )
    assert changed.status_code == 200
    waiting.join()
    assert waiting.received_at - waiting.started_at >= 1.0
    body = waiting.response.json()
    assert (body["status"], body["amount"]) == ("pending_approval", 2500)


def test_returns_when_the_window_runs_out(wallet: Any, agent: Any) -> None:
    request = pending(agent)
    set_columns(wallet, request["id"], approval_expires_at=utcnow() + timedelta(seconds=0.5))
    started = time.monotonic()
    answer = agent.get(f"/spend_requests/{request['id']}", params={"wait": 10})
    assert time.monotonic() - started < 10
    assert answer.json()["status"] == "expired"


def test_wait_on_created_returns_on_request_approval(wallet: Any, agent: Any) -> None:
    request = create(agent)
    waiting = _Wait(agent, request["id"], wait=10)
    _wait_until_watching(wallet, request["id"])
    assert agent.post(f"/spend_requests/{request['id']}/request_approval").status_code == 200
    waiting.join()
    assert waiting.response.json()["status"] == "pending_approval"
    assert waiting.received_at - waiting.started_at < 10


@pytest.mark.parametrize("wait", ["31", "-1", "soon"])
def test_bad_wait_is_400(agent: Any, wait: str) -> None:
    request = create(agent)
    answer = agent.get(f"/spend_requests/{request['id']}", params={"wait": wait})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "wait"


def test_last_status_already_left_answers_at_once(wallet: Any, agent: Any, person: str) -> None:
    """A change made between the client's previous fetch and its long-poll call is not
    missed: with `last_status` the wallet answers at once instead of waiting."""
    request = pending(agent)
    wallet.approve(request["id"], person)
    started = time.monotonic()
    answer = agent.get(
        f"/spend_requests/{request['id']}",
        params={"wait": 10, "last_status": "pending_approval"},
    )
    assert time.monotonic() - started < 5
    assert answer.json()["status"] == "approved"


def test_last_status_matching_still_waits(agent: Any) -> None:
    request = pending(agent)
    started = time.monotonic()
    answer = agent.get(
        f"/spend_requests/{request['id']}",
        params={"wait": 1, "last_status": "pending_approval"},
    )
    assert time.monotonic() - started >= 1.0
    assert answer.json()["status"] == "pending_approval"


def test_one_commit_approving_many_wakes_every_waiter_with_its_card(
    wallet: Any, agent: Any, person: str
) -> None:
    """Waiters woken together are answered in batches: each still gets its own request
    with its card, and each reveal is audited once."""
    from sqlalchemy import select

    from linkpay.wallet.audit import events
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.audit_models import AuditEntry

    ids = [pending(agent)["id"] for _ in range(8)]
    answers: dict[str, Any] = {}

    def poll(spend_request_id: str) -> None:
        answers[spend_request_id] = agent.get(
            f"/spend_requests/{spend_request_id}",
            params={"wait": 10, "last_status": "pending_approval", "include": "card"},
        )

    threads = [threading.Thread(target=poll, args=(i,), daemon=True) for i in ids]
    for thread in threads:
        thread.start()
    for spend_request_id in ids:
        _wait_until_watching(wallet, spend_request_id)
    with wallet.session() as s:
        for spend_request_id in ids:
            service.approve_spend_request(
                s, user_id=person, spend_request_id=spend_request_id, settings=wallet.settings
            )
    for thread in threads:
        thread.join(30)
    for spend_request_id in ids:
        body = answers[spend_request_id].json()
        assert (body["id"], body["status"]) == (spend_request_id, "approved")
        assert len(body["card"]["number"]) >= 15
    with wallet.session() as s:
        revealed = s.scalars(
            select(AuditEntry.subject).where(
                AuditEntry.type == events.CREDENTIAL_REVEALED, AuditEntry.subject.in_(ids)
            )
        ).all()
    assert sorted(revealed) == sorted(ids)


@pytest.mark.only_database("postgres")
def test_new_requests_send_no_notify_changes_do(agent: Any, person: str, database_url: str) -> None:
    """Nobody can wait on an id before its row commits, so a create notifies no one
    (a notifying commit takes PostgreSQL's database-wide lock); a later change does."""
    import psycopg

    from linkpay.wallet.spend.pg_wakes import CHANNEL

    listener_url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(listener_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        created = create(agent, request_approval=True)  # created -> pending_approval
        asked = create(agent)
        assert agent.post(f"/spend_requests/{asked['id']}/request_approval").status_code == 200
        notified = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    assert created["status"] == "pending_approval"
    assert notified == [asked["id"]]
