"""The budget never goes over, under concurrency: 200 parallel creates from 4 agents,
auto-approve on, a daily budget of $100. On PostgreSQL against two wallet server
processes sharing the database; on SQLite against one. A watcher sums the ledger
(reserved + consumed) from its own connection all through the run: never above $100,
and at the end exactly $100 (every $1 request that fit was approved, none beyond)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
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
from wallet_policy_helpers import body, set_budgets, set_limits, set_rules

from linkpay.serving import free_loopback_port

BUDGET = 10_000
AMOUNT = 100
AGENTS = 4
CREATES = 200
LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))


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


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # a loaded CI box starts Python slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"wallet server exited with {proc.returncode}"
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@contextmanager
def server_processes(wallet: Any, database_url: str, count: int, tmp: Path) -> Iterator[list[str]]:
    """`count` `link-wallet serve` processes on one database, same keys as `wallet`."""
    env = {
        **os.environ,
        "LINKPAY_DATABASE_URL": database_url,
        "LINKPAY_DATA_DIR": str(tmp),
        "LINKPAY_CARD_KEY": base64.b64encode(wallet.settings.card_key).decode(),
        "LINKPAY_PEPPER": base64.b64encode(wallet.settings.pepper).decode(),
    }
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for index in range(count):
            port = free_loopback_port()
            log = open(tmp / f"wallet-{index}.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [LINK_WALLET, "serve", "--port", str(port), "--no-access-log"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
            _wait_up(f"{urls[-1]}/openapi.json", proc)  # one at a time: migrations
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


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
