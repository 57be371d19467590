"""Idempotency keys under bad input and slow requests: the fingerprint never 500s, and
a claim taken over by a retry can't be completed (or released) by its old owner."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from capacity_helpers import card_body
from sqlalchemy import select, update

from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.spend import idempotency
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.models import IdempotencyKey, User


@pytest.mark.parametrize("value", [2**53, -(2**60), 10**30])
def test_integer_beyond_double_range_is_400_naming_the_field(agent: Any, value: int) -> None:
    body = card_body(approval_details={"ticket": {"number": value}})
    answer = agent.post(
        "/spend_requests", json=body, headers={"Idempotency-Key": secrets.token_hex(8)}
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["param"] == "approval_details.ticket.number"


def test_safe_integer_still_fingerprints() -> None:
    first = idempotency.request_fingerprint("POST", "/x", {"n": 2**53 - 1, "a": [1.5]})
    again = idempotency.request_fingerprint("post", "/x", {"a": [1.5], "n": 2**53 - 1})
    assert first == again


def _claim(factory: Any, principal: str, key: str, request_hash: str = "h") -> Any:
    return idempotency.claim(
        factory,
        principal=principal,
        key=key,
        method="POST",
        path="/spend_requests",
        request_hash=request_hash,
    )


def _age_claim(factory: Any, claim_id: int, seconds: int) -> None:
    with transaction(factory) as session:
        row = session.get(IdempotencyKey, claim_id)
        assert row is not None
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == claim_id)
            .values(created_at=row.created_at - timedelta(seconds=seconds))
        )


def test_taken_over_claim_cannot_complete_or_release(wallet: Any, person: str) -> None:
    factory = wallet.sessionmaker
    principal, key = f"fam_{secrets.token_hex(6)}", secrets.token_hex(8)
    slow = _claim(factory, principal, key)
    assert isinstance(slow, idempotency.Claim)
    _age_claim(factory, slow.id, idempotency.STALE_CLAIM_SECONDS + 5)

    retry = _claim(factory, principal, key)  # the abandoned-looking claim is taken over
    assert isinstance(retry, idempotency.Claim)
    assert retry.id == slow.id and retry.claimed_at != slow.claimed_at

    # The slow request finally finishes: its side effect and its response must not land.
    with pytest.raises(WalletError) as refused:
        with transaction(factory) as session:
            session.execute(update(User).where(User.id == person).values(name="slow won"))
            idempotency.complete(session, slow, 200, {"who": "slow"})
    assert http_status(refused.value) == 409
    idempotency.release(factory, slow)  # what the route does after a failure

    with transaction(factory) as session:
        assert session.get(User, person).name != "slow won"  # type: ignore[union-attr]
        row = session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.id == retry.id)
        ).one()  # not deleted by the old owner's release
        assert row.state == "in_progress"

    with transaction(factory) as session:
        idempotency.complete(session, retry, 200, {"who": "retry"})
    replay = _claim(factory, principal, key)
    assert isinstance(replay, idempotency.Replay)
    assert replay.body == {"who": "retry"}


def test_two_retries_cannot_both_take_over(wallet: Any) -> None:
    factory = wallet.sessionmaker
    principal, key = f"fam_{secrets.token_hex(6)}", secrets.token_hex(8)
    first = _claim(factory, principal, key)
    assert isinstance(first, idempotency.Claim)
    _age_claim(factory, first.id, idempotency.STALE_CLAIM_SECONDS + 5)
    taken = _claim(factory, principal, key)
    assert isinstance(taken, idempotency.Claim)
    with pytest.raises(WalletError) as busy:
        _claim(factory, principal, key)  # the takeover is fresh: in use, not stale
    assert http_status(busy.value) == 409


@pytest.mark.timeout(60)
def test_a_claim_released_while_we_looked_is_claimed_again(wallet_factory: Any) -> None:
    """Our insert meets the key; its holder releases it before our read. The claim is
    retried after the reading transaction ends. (Retried inside it, it waited on the
    SQLite write lock its own transaction held: a 503 after the busy timeout; on
    PostgreSQL, on its own uncommitted delete.) The release is simulated on the reading
    transaction's own connection, just before its SELECT."""
    from sqlalchemy import delete, event

    quick = wallet_factory(sqlite_busy_timeout_seconds=1)
    factory, engine = quick.sessionmaker, quick.app.state.engine
    principal, key = f"tfam_{secrets.token_hex(6)}", secrets.token_hex(8)
    held = _claim(factory, principal, key, request_hash="theirs")
    released: list[bool] = []

    def release_before_the_read(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not released and statement.lstrip().upper().startswith("SELECT"):
            if "idempotency_keys" in statement:
                released.append(True)
                conn.execute(delete(IdempotencyKey).where(IdempotencyKey.id == held.id))

    event.listen(engine, "before_cursor_execute", release_before_the_read)
    try:
        ours = _claim(factory, principal, key, request_hash="ours")
    finally:
        event.remove(engine, "before_cursor_execute", release_before_the_read)
    assert released == [True]
    assert isinstance(ours, idempotency.Claim)
    with transaction(factory) as session:
        row = session.get(IdempotencyKey, ours.id)
        assert row is not None and row.request_hash == "ours" and row.state == "in_progress"
