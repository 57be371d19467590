"""Count limits hold exactly under parallel creates, for a person with no rules and no
budgets as much as for one with them: 40 creates at once against a limit of 5 give
exactly 5 (and against 20, exactly 20: the first ones run side by side, the ones near
the limit one at a time). On PostgreSQL the creates go to two `link-wallet serve` processes sharing
the database; on SQLite to the one embedded wallet (BEGIN IMMEDIATE serializes)."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from wallet_policy_helpers import body, server_processes, set_limits, set_rules

# Runs alone (tests/serial_gate.py): two server processes and 40 parallel creates.
pytestmark = pytest.mark.serial

LIMIT = 5
CREATES = 40
WARM = 2
HIGH = {"max_active": 200, "creates_per_hour": 500, "creates_per_60_days": 5_000}

CREATED = (200, "created")
HOURLY = "agent_hourly_create_limit_reached"
SIXTY_DAYS = "agent_60_day_create_limit_reached"
# (case, the one limit set to LIMIT, rules, what the winners and the losers get)
CASES = [
    ("max_active", {"max_active": LIMIT}, [], CREATED, (409, "active_requests_limit_reached")),
    ("creates_per_hour", {"creates_per_hour": LIMIT}, [], CREATED, (429, HOURLY)),
    ("creates_per_60_days", {"creates_per_60_days": LIMIT}, [], CREATED, (429, SIXTY_DAYS)),
    # Far from the limit at first (side by side), then near it (one at a time).
    ("max_active=30", {"max_active": 30}, [], CREATED, (409, "active_requests_limit_reached")),
    (
        "rule count per day",
        {},
        [{"action": "auto_approve", "when": {"count": {"max": LIMIT, "period": "day"}}}],
        (200, "approved"),
        CREATED,
    ),
    (
        "max_approved_unused",
        {"max_approved_unused": LIMIT},
        [{"action": "auto_approve"}],
        (200, "approved"),
        (409, "approved_unused_limit_reached"),
    ),
]


@pytest.fixture(scope="module")
def urls(wallet: Any, database_url: str, tmp_path_factory: Any) -> Iterator[list[str]]:
    if database_url.startswith("postgres"):
        tmp: Path = tmp_path_factory.mktemp("count-limits")
        with server_processes(wallet, database_url, 2, tmp) as started:
            yield started
    else:
        yield [wallet.base_url]


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("limits", "rules", "winner", "loser"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_count_limit_is_exact_under_parallel_creates(
    wallet: Any,
    urls: list[str],
    limits: dict[str, int],
    rules: list[dict[str, Any]],
    winner: tuple[int, str],
    loser: tuple[int, str],
) -> None:
    person = wallet.create_user(f"counts-{secrets.token_hex(4)}@example.com")
    wallet.add_test_card(person)
    set_limits(wallet, person, **{**HIGH, "max_approved_unused": 200, **limits})
    if rules:
        set_rules(wallet, person, *rules)
    token = wallet.agent_login(person, connection_label="Parallel agent").access_token
    clients = [
        httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        for url in urls
    ]

    def create(n: int) -> tuple[int, str]:
        for _attempt in range(30):  # a 503 means "busy, nothing changed": retry
            answer = clients[n % len(clients)].post("/spend_requests", json=body(100 + n))
            if answer.status_code != 503:
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        payload = answer.json()
        if answer.status_code == 200:
            return 200, payload["status"]
        return answer.status_code, payload["error"]["code"]

    # A few first, one by one (each wallet process then knows the room it has), then
    # the burst.
    warm = [create(n) for n in range(WARM)] if not rules else []
    try:
        with ThreadPoolExecutor(max_workers=CREATES) as pool:
            outcomes = Counter(pool.map(create, range(len(warm), len(warm) + CREATES)))
    finally:
        for client in clients:
            client.close()
    fit = next(iter(limits.values()), LIMIT) - len(warm)
    assert all(outcome == winner for outcome in warm), warm
    assert outcomes == {winner: fit, loser: CREATES - fit}, outcomes
