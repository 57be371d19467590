"""Rate limits in Redis (`LINKPAY_RATE_LIMIT_STORAGE_URL=redis://…`), against the real
Redis of `redis_url`: two `link-wallet serve` processes count wrong device phrases
together, their keys carry the configured prefix, and a Redis that can't be reached
makes the limited pages answer 503 with Retry-After instead of a 500 (as a busy
database does).

Each test uses its own key prefix and deletes only keys under it (Redis is shared)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from capacity_helpers import (
    LocalWallet,
    Served,
    guess_wrong_phrases_on_both,
    serve_process,
    sign_in,
)

from linkpay.wallet.rate_limits import build_storage

# Runs alone (tests/serial_gate.py): two server processes.
pytestmark = pytest.mark.serial

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    own = f"linkpay-test-{secrets.token_hex(4)}"
    yield own
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{own}:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def pair(
    database_url: str, redis_url: str, prefix: str, tmp_path_factory: Any
) -> Iterator[tuple[Served, Served, LocalWallet]]:
    """Two wallet processes on one database, their rate limits in Redis."""
    from linkpay.wallet.app import open_store
    from linkpay.wallet.settings import Settings

    data_dir = tmp_path_factory.mktemp("redis-pair")
    env = {"LINKPAY_RATE_LIMIT_STORAGE_URL": redis_url, "LINKPAY_RATE_LIMIT_KEY_PREFIX": prefix}
    a = serve_process(data_dir, database_url, "--no-access-log", env=env)
    b = serve_process(data_dir, database_url, "--no-access-log", env=env)
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    engine, factory = open_store(settings)
    try:
        yield a, b, LocalWallet(settings, factory)
    finally:
        for served in (a, b):
            served.process.terminate()
        for served in (a, b):
            served.process.wait(timeout=20)
        engine.dispose()


# On SQLite the counters would otherwise be in each process's memory: that the two count
# together here is Redis's doing. (PostgreSQL shares them through its own table, which
# test_two_processes.py covers.)
@pytest.mark.only_database("sqlite")
def test_two_processes_count_phrase_guesses_together_in_redis(
    pair: Any, redis_url: str, prefix: str
) -> None:
    import redis

    from linkpay.wallet.auth.device import PHRASE_GUESS_LIMIT

    a, b, local = pair
    elsewhere = f"linkpay-other-{secrets.token_hex(4)}:kept"  # another user of this Redis
    with redis.Redis.from_url(redis_url) as client:
        client.set(elsewhere, "1", ex=60)
    person = local.person(f"redis-limit-{time.monotonic_ns()}@example.com")
    guess_wrong_phrases_on_both(a, b, local, person, PHRASE_GUESS_LIMIT.amount)
    with redis.Redis.from_url(redis_url) as client:
        ours = [key.decode() for key in client.scan_iter(match=f"{prefix}:*")]
        assert any(person in key for key in ours), ours  # the counter lives in Redis
        # Clearing the wallet's storage touches its own prefix only.
        settings = SimpleNamespace(rate_limit_storage_url=redis_url, rate_limit_key_prefix=prefix)
        build_storage(settings, engine=None).reset()  # the engine is for URL-less settings
        assert not list(client.scan_iter(match=f"{prefix}:*"))
        assert client.get(elsewhere) == b"1"
        client.delete(elsewhere)


def test_unreachable_rate_limit_storage_is_503(wallet_factory: Any, person: str) -> None:
    cut_off = wallet_factory(rate_limit_storage_url=UNREACHABLE_REDIS)
    with cut_off.http(follow_redirects=False) as browser:
        sign_in(browser, cut_off.base_url, cut_off.signin_link(person, "/"))
        answer = browser.get("/device", params={"code": "wrong-wrong-wrong"})
    # The device page is HTML: the busy page, with the same status and header as the API.
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert "The wallet is busy" in answer.text
