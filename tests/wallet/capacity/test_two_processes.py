"""Two `link-wallet serve` processes on one database, as in a multi-host deployment:
an approval through A wakes a long-poll waiting on B (LISTEN/NOTIFY on PostgreSQL),
and the phrase-guess limiter counts across both."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from capacity_helpers import (
    LocalWallet,
    Served,
    approve_on_page,
    card_body,
    guess_wrong_phrases_on_both,
    issue_agent_token,
    serve_process,
    sign_in,
)

# Runs alone (tests/serial_gate.py): three server processes; asserts a wake-up time.
pytestmark = pytest.mark.serial


@pytest.fixture(scope="module")
def pair(database_url: str, tmp_path_factory: Any) -> Iterator[tuple[Served, Served, LocalWallet]]:
    """Wallet A (1 worker) and wallet B (2 workers) on one database and data dir, plus
    an in-process handle on the same database for setup (`wallet`-like)."""
    from linkpay.wallet.app import open_store
    from linkpay.wallet.settings import Settings

    data_dir = tmp_path_factory.mktemp("pair")
    a = serve_process(data_dir, database_url, "--no-access-log")
    b = serve_process(data_dir, database_url, "--workers", "2", "--no-access-log")
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    engine, factory = open_store(settings)
    local = LocalWallet(settings, factory)
    try:
        yield a, b, local
    finally:
        for served in (a, b):
            served.process.terminate()
        for served in (a, b):
            served.process.wait(timeout=20)
        engine.dispose()


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


@pytest.mark.only_database("postgres")  # shared counters; SQLite is one process
def test_phrase_guess_limit_counts_across_both(pair: Any, database_url: str) -> None:
    from linkpay.wallet.auth.device import PHRASE_GUESS_LIMIT

    a, b, local = pair
    person = local.person(f"pair-limit-{time.monotonic_ns()}@example.com")
    guess_wrong_phrases_on_both(a, b, local, person, PHRASE_GUESS_LIMIT.amount)
