"""The budget never goes over, under concurrency: 200 parallel creates from 4 agents,
auto-approve on, a daily budget of $100. On PostgreSQL against two wallet server
processes sharing the database; on SQLite against one. A watcher sums the ledger
(reserved + consumed) from its own connection all through the run: never above $100,
and at the end exactly $100 (every $1 request that fit was approved, none beyond)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from wallet_policy_helpers import body, server_processes, set_budgets, set_limits, set_rules

# Runs alone (tests/serial_gate.py): two server processes and 200 parallel creates.
pytestmark = pytest.mark.serial

BUDGET = 10_000
AMOUNT = 100
AGENTS = 4
CREATES = 200


def _ledger_sum(engine: Any, person: str) -> int:
    from sqlalchemy import text

    from linkpay.wallet.store.db import READ_ONLY_OPTION

    # A reader: on SQLite a deferred BEGIN (a WAL snapshot), never the write lock.
    with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as conn:
        value = conn.execute(
            text(
                "SELECT COALESCE(SUM(CASE kind WHEN 'reserve' THEN amount "
                "WHEN 'release' THEN -amount ELSE 0 END), 0) FROM budget_ledger "
                "WHERE user_id = :user"
            ),
            {"user": person},
        ).scalar_one()
    return int(value)


class Watcher(threading.Thread):
    """Reads the ledger over and over while the creates run."""

    def __init__(self, database_url: str, person: str) -> None:
        super().__init__(daemon=True)
        from linkpay.wallet.store.db import make_engine

        self.engine = make_engine(database_url)
        self.person = person
        self.samples: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append(_ledger_sum(self.engine, self.person))

    def stop(self) -> list[int]:
        self.done.set()
        self.join(timeout=30)
        self.samples.append(_ledger_sum(self.engine, self.person))
        self.engine.dispose()
        return self.samples


@pytest.mark.timeout(600)
def test_budget_holds_under_parallel_creates(
    wallet: Any, database_url: str, tmp_path: Path
) -> None:
    person = wallet.create_user(f"budget-{os.getpid()}-{time.time_ns()}@example.com")
    wallet.add_test_card(person)
    set_rules(wallet, person, {"action": "auto_approve"})
    set_budgets(wallet, person, {"period": "day", "amount": BUDGET})
    set_limits(wallet, person, max_active=CREATES, max_approved_unused=CREATES)
    tokens = [
        wallet.agent_login(person, connection_label=f"agent {n}").access_token
        for n in range(AGENTS)
    ]
    postgres = database_url.startswith("postgres")

    @contextmanager
    def targets() -> Iterator[list[str]]:
        if postgres:
            with server_processes(wallet, database_url, 2, tmp_path) as urls:
                yield urls
        else:
            yield [wallet.base_url]

    with targets() as urls:
        clients = [
            httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            for token in tokens
            for url in urls
        ]
        watcher = Watcher(database_url, person)
        watcher.start()

        def create(n: int) -> tuple[int, str]:
            # An agent retries a 503 ("busy, nothing was changed") after Retry-After.
            payload_in = body(AMOUNT)
            for _attempt in range(30):
                answer = clients[n % len(clients)].post("/spend_requests", json=payload_in)
                if answer.status_code != 503:
                    break
                time.sleep(float(answer.headers.get("Retry-After", "1")))
            payload = answer.json()
            if answer.status_code == 200:
                return 200, payload["status"]
            return answer.status_code, payload["error"]["code"]

        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=16) as pool:
                outcomes = list(pool.map(create, range(CREATES)))
        finally:
            print(f"\n[budget invariant] {CREATES} creates in {time.monotonic() - started:.1f} s")
            samples = watcher.stop()
            for client in clients:
                client.close()

    tally = Counter(outcomes)
    assert tally == {(200, "approved"): BUDGET // AMOUNT, (429, "budget_exceeded"): 100}, tally
    assert len(samples) >= 5, "the watcher must have read the ledger during the run"
    assert max(samples) <= BUDGET, f"over budget at some moment: {max(samples)}"
    assert samples[-1] == BUDGET  # exactly right at the end

    from sqlalchemy import func, select

    from linkpay.wallet.store.models import SpendRequest
    from linkpay.wallet.store.policy_models import LedgerEntry

    with wallet.session() as session:
        approved = session.scalar(
            select(func.coalesce(func.sum(SpendRequest.amount), 0)).where(
                SpendRequest.user_id == person, SpendRequest.status == "approved"
            )
        )
        reserves = session.scalar(
            select(func.count()).where(LedgerEntry.user_id == person, LedgerEntry.kind == "reserve")
        )
    assert (approved, reserves) == (BUDGET, BUDGET // AMOUNT)
    if postgres:  # both processes really served creates
        assert len(urls) == 2
