"""Two `link-wallet serve` processes on one database, as in a multi-host deployment:
an approval through A wakes a long-poll waiting on B (LISTEN/NOTIFY on PostgreSQL),
and the phrase-guess limiter counts across both."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from capacity_helpers import approve_on_page, card_body, issue_agent_token, sign_in

from linkpay.serving import free_loopback_port


class Served:
    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    def client(self, **kwargs: Any) -> httpx2.Client:
        return httpx2.Client(base_url=self.base_url, timeout=40, **kwargs)


def _serve(data_dir: Path, database_url: str, *extra: str) -> Served:
    port = free_loopback_port()
    env = {**os.environ, "LINKPAY_DATA_DIR": str(data_dir), "LINKPAY_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "linkpay.wallet.admin", "serve", "--port", str(port), *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "Application startup complete" in line:
            break
    else:
        raise AssertionError(f"serve exited with {process.wait()}")
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep draining
    return Served(process, f"http://127.0.0.1:{port}")


@pytest.fixture(scope="module")
def pair(database_url: str, tmp_path_factory: Any) -> Iterator[tuple[Served, Served, Any]]:
    """Wallet A (1 worker) and wallet B (2 workers) on one database and data dir, plus
    an in-process handle on the same database for setup (`wallet`-like)."""
    from linkpay.wallet.app import open_store
    from linkpay.wallet.settings import Settings

    data_dir = tmp_path_factory.mktemp("pair")
    a = _serve(data_dir, database_url, "--no-access-log")
    b = _serve(data_dir, database_url, "--workers", "2", "--no-access-log")
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    engine, factory = open_store(settings)
    local = _Local(settings, factory)
    try:
        yield a, b, local
    finally:
        for served in (a, b):
            served.process.terminate()
        for served in (a, b):
            served.process.wait(timeout=20)
        engine.dispose()


class _Local:
    """What the tests do directly in the shared database (setup only)."""

    def __init__(self, settings: Any, factory: Any) -> None:
        self.settings = settings
        self.sessionmaker = factory

    def session(self) -> Any:
        from linkpay.wallet.store.db import transaction

        return transaction(self.sessionmaker)

    def person(self, email: str) -> str:
        from linkpay.wallet import accounts

        with self.session() as db:
            user = accounts.create_user(db, email=email, name="Ada Lovelace")
            accounts.add_test_card(db, user_id=user.id)
            return user.id

    def signin_link(self, user_id: str, base_url: str) -> str:
        from linkpay.wallet.web.signin import create_signin_link

        with self.session() as db:
            link = create_signin_link(db, user_id, self.settings)
        return base_url + link[link.index("/signin/") :]


def test_approval_through_a_wakes_a_long_poll_on_b(pair: Any) -> None:
    a, b, local = pair
    person = local.person(f"pair-wake-{time.monotonic_ns()}@example.com")
    token = issue_agent_token(local, person).access_token
    auth = {"Authorization": f"Bearer {token}"}
    with a.client(headers=auth) as agent_a:
        created = agent_a.post("/spend_requests", json=card_body(request_approval=True))
    assert created.status_code == 200, created.text
    spend_id = created.json()["id"]

    answers: list[Any] = []
    returned_at: list[float] = []

    def long_poll() -> None:
        with b.client(headers=auth) as agent_b:
            answers.append(
                agent_b.get(
                    f"/spend_requests/{spend_id}",
                    params={"wait": 30, "last_status": "pending_approval"},
                )
            )
        returned_at.append(time.monotonic())

    poller = threading.Thread(target=long_poll)
    poller.start()
    # Signing in takes a few round trips, so B's long-poll is normally waiting by the
    # time A approves (and if not, it re-reads once registered: the outcome holds).
    with a.client(follow_redirects=False) as browser:
        sign_in(browser, a.base_url, local.signin_link(person, a.base_url))
        approve_on_page(browser, a.base_url, spend_id)
    approved_at = time.monotonic()
    poller.join(timeout=40)
    assert answers, "the long-poll on B never returned"
    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "approved"
    # Woken by the approval, not by the 30 s timeout.
    assert returned_at[0] - approved_at < 5


def test_phrase_guess_limit_counts_across_both(pair: Any, database_url: str) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("shared rate-limit counters need PostgreSQL (SQLite is one process)")
    from linkpay.wallet.auth.device import PHRASE_GUESS_LIMIT

    a, b, local = pair
    person = local.person(f"pair-limit-{time.monotonic_ns()}@example.com")
    with a.client(follow_redirects=False) as on_a, b.client(follow_redirects=False) as on_b:
        sign_in(on_a, a.base_url, local.signin_link(person, a.base_url))
        sign_in(on_b, b.base_url, local.signin_link(person, b.base_url))
        browsers = (on_a, on_b)
        for attempt in range(PHRASE_GUESS_LIMIT.amount):
            miss = browsers[attempt % 2].get("/device", params={"code": "wrong-wrong-wrong"})
            assert miss.status_code == 404, (attempt, miss.status_code)
        # Each process alone saw only half the misses; together they hit the limit.
        assert on_a.get("/device", params={"code": "wrong-wrong-wrong"}).status_code == 429
        assert on_b.get("/device", params={"code": "wrong-wrong-wrong"}).status_code == 429
