"""Retries must never pile up purchases: duplicate detection (429 with the existing
request) and Idempotency-Key replay / 422 / 409 on every POST."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from spend_helpers import card_body, create, pending

from linkpay.wallet.spend import idempotency
from linkpay.wallet.store.models import SpendRequest


def _count(wallet: Any, person: str) -> int:
    with wallet.session() as session:
        return session.query(SpendRequest).filter_by(user_id=person).count()


def test_duplicate_pending_request_is_429_with_the_existing_one(
    wallet: Any, agent: Any, person: str
) -> None:
    body = card_body(request_approval=True)
    first = agent.post("/spend_requests", json=body)
    assert first.status_code == 200
    again = agent.post("/spend_requests", json=body)
    assert again.status_code == 429
    error = again.json()["error"]
    assert error["code"] == "spend_request_rate_limited"
    assert 0 < error["retry_after"] <= 60
    assert again.headers["Retry-After"] == str(error["retry_after"])
    assert error["duplicate_spend_request"]["id"] == first.json()["id"]
    assert error["duplicate_spend_request"]["status"] == "pending_approval"
    assert _count(wallet, person) == 1
    # the same body without request_approval is still the same purchase
    body.pop("request_approval")
    assert agent.post("/spend_requests", json=body).status_code == 429


def test_not_duplicates(wallet: Any, agent: Any, person: str) -> None:
    body = card_body()
    assert agent.post("/spend_requests", json=body).status_code == 200
    # a different amount, a different context: different purchases
    changed = {**body, "amount": 2000, "totals": [{"type": "total", "amount": 2000}]}
    assert agent.post("/spend_requests", json=changed).status_code == 200
    assert (
        agent.post("/spend_requests", json={**body, "context": body["context"] + "!"}).status_code
        == 200
    )
    # another agent of the same person is not "the same agent"
    token = wallet.agent_login(person)
    with wallet.http(token.access_token) as second_agent:
        assert second_agent.post("/spend_requests", json=body).status_code == 200


def test_decided_request_is_not_a_duplicate(wallet: Any, agent: Any, person: str) -> None:
    body = card_body(request_approval=True)
    first = agent.post("/spend_requests", json=body).json()
    wallet.deny(first["id"], person)
    assert agent.post("/spend_requests", json=body).status_code == 200


def _key() -> dict[str, str]:
    return {"Idempotency-Key": secrets.token_hex(16)}


def test_same_key_same_body_replays(wallet: Any, agent: Any, person: str) -> None:
    headers = _key()
    body = card_body(request_approval=True)
    first = agent.post("/spend_requests", json=body, headers=headers)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    # key order differs: still the same request
    again = agent.post("/spend_requests", json=dict(reversed(body.items())), headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count(wallet, person) == 1


def test_same_key_different_body_is_422(wallet: Any, agent: Any, person: str) -> None:
    headers = _key()
    assert agent.post("/spend_requests", json=card_body(), headers=headers).status_code == 200
    other = agent.post("/spend_requests", json=card_body(amount=2000, totals=None), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert _count(wallet, person) == 1


def test_key_still_running_is_409(wallet: Any, agent: Any, agent_token: Any) -> None:
    from linkpay.wallet.auth.tokens import hash_token
    from linkpay.wallet.store.models import OAuthToken

    with wallet.session() as session:
        family = (
            session.query(OAuthToken)
            .filter_by(access_token_hash=hash_token(agent_token.access_token))
            .one()
            .family_id
        )
    body = card_body()
    headers = _key()
    # a first request with this key is mid-flight (claimed, not completed)
    claimed = idempotency.claim(
        wallet.sessionmaker,
        principal=family,
        key=headers["Idempotency-Key"],
        method="POST",
        path="/spend_requests",
        request_hash=idempotency.request_fingerprint("POST", "/spend_requests", body),
    )
    assert isinstance(claimed, idempotency.Claim)
    answer = agent.post("/spend_requests", json=body, headers=headers)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_key_in_use"
    assert answer.headers["Retry-After"]
    idempotency.release(wallet.sessionmaker, claimed)
    assert agent.post("/spend_requests", json=body, headers=headers).status_code == 200


def test_failed_request_releases_its_key(agent: Any) -> None:
    headers = _key()
    refused = agent.post(
        "/spend_requests", json=card_body(payment_details="csmrpd_nope"), headers=headers
    )
    assert refused.status_code == 400
    fixed = agent.post("/spend_requests", json=card_body(), headers=headers)
    assert fixed.status_code == 200
    assert "Idempotent-Replayed" not in fixed.headers


def test_keys_are_per_agent(wallet: Any, agent: Any, other_agent: Any) -> None:
    headers = _key()
    mine = agent.post("/spend_requests", json=card_body(), headers=headers)
    theirs = other_agent.post("/spend_requests", json=card_body(), headers=headers)
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


@pytest.mark.parametrize("action", ["request_approval", "cancel", "update"])
def test_every_post_replays(wallet: Any, agent: Any, action: str) -> None:
    request = create(agent) if action != "cancel" else pending(agent)
    path = f"/spend_requests/{request['id']}"
    headers = _key()
    if action == "update":
        send = lambda: agent.post(  # noqa: E731
            path,
            json={"amount": 2100, "totals": [{"type": "total", "amount": 2100}]},
            headers=headers,
        )
    else:
        send = lambda: agent.post(f"{path}/{action}", headers=headers)  # noqa: E731
    first = send()
    assert first.status_code == 200, first.text
    second = send()
    # without the key a second cancel would be a 409 invalid_state; with it, a replay
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    with wallet.session() as session:
        assert session.get(SpendRequest, request["id"]).version == (3 if action == "cancel" else 2)


def test_idempotency_key_too_long_is_400(agent: Any) -> None:
    answer = agent.post("/spend_requests", json=card_body(), headers={"Idempotency-Key": "k" * 256})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "Idempotency-Key"


def test_concurrent_identical_creates_make_one_request(
    wallet: Any, agent_token: Any, person: str
) -> None:
    """The person's row is locked while creating, so racing retries cannot both pass
    the duplicate check (PostgreSQL; SQLite serializes writers anyway)."""
    import threading

    body = card_body(request_approval=True)
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def send() -> None:
        with wallet.http(agent_token.access_token) as client:
            barrier.wait()
            codes.append(client.post("/spend_requests", json=body).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 429, 429, 429]
    assert _count(wallet, person) == 1


@pytest.mark.only_database("postgres")
def test_create_lock_covers_exactly_what_makes_a_duplicate(wallet: Any) -> None:
    """Creates of one purchase wait for each other only when the context is the same
    too (a duplicate); the same purchase with another context goes ahead."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from linkpay.wallet.spend.duplicates import lock_identical_creates

    with wallet.session() as holder:
        lock_identical_creates(holder, "fam_lock", "hash", "the kettle for the office")
        with wallet.session() as other:
            other_context = other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": 0})
            assert other_context.scalar() is True  # an unrelated key, as a control

            def try_lock(context: str) -> bool:
                try:
                    with other.begin_nested():
                        other.execute(text("SET LOCAL lock_timeout = '50ms'"))
                        lock_identical_creates(other, "fam_lock", "hash", context)
                except OperationalError:  # lock_timeout: the holder has it
                    return False
                return True

            assert try_lock("the kettle for the kitchen") is True
            assert try_lock("the kettle for the office") is False
