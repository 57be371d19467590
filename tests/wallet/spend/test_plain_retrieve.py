"""The plain retrieve (`GET /spend_requests/{id}` with no query string) has its own read
path, `spend.plain_read`: one statement for the token and the request. It must answer
exactly what the declared route answers. Each test compares it, byte for byte, with
the same retrieve sent with an empty `include` (a query string, so the declared route
runs), and the token is checked on every request: a revocation holds at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from spend_helpers import (
    CONTEXT,
    approved,
    create,
    pending,
    set_columns,
    spt_body,
    stored_status,
)
from sqlalchemy import event, update

from linkpay.wallet.api.plain_retrieve import LANE_READS_IN_FLIGHT, LANE_THREAD_NAME
from linkpay.wallet.auth.tokens import hash_token, revoke_token
from linkpay.wallet.store.models import OAuthToken, utcnow


def _same_as_declared(agent: Any, spend_request_id: str) -> dict[str, Any]:
    plain = agent.get(f"/spend_requests/{spend_request_id}")
    declared = agent.get(f"/spend_requests/{spend_request_id}", params={"include": ""})
    assert declared.request.url.query == b"include="
    assert plain.status_code == declared.status_code == 200, (plain.text, declared.text)
    assert plain.content == declared.content
    assert plain.headers["content-type"] == declared.headers["content-type"]
    body: dict[str, Any] = plain.json()
    return body


@pytest.fixture
def statements(wallet: Any) -> Iterator[list[str]]:
    """The SQL statements the wallet's engine runs while the test does."""
    seen: list[str] = []
    engine = wallet.app.state.engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_created_and_pending_read_as_declared(agent: Any) -> None:
    # Text JSON may escape differently: quotes, backslash, slash, non-ASCII, U+2028.
    odd = 'Café ☕ — "quoted" \\ a/b \u2028 ünïcödé 日本'
    created = create(
        agent,
        context=f"{CONTEXT} {odd}",
        merchant_name=f"Kettle {odd[:12]}",
        metadata={"order": "A-17", "note": odd},
    )
    body = _same_as_declared(agent, created["id"])
    assert body["status"] == "created"
    assert body["metadata"] == {"order": "A-17", "note": odd}
    assert odd in body["context"]
    assert _same_as_declared(agent, pending(agent)["id"])["status"] == "pending_approval"


def test_approved_card_shows_brand_and_last4_as_declared(
    wallet: Any, agent: Any, person: str
) -> None:
    request = approved(wallet, agent, person)
    body = _same_as_declared(agent, request["id"])
    assert body["status"] == "approved"
    assert len(body["card_last4"]) == 4 and body["card_brand"]
    assert "card" not in body  # revealed only with include=card
    assert body["decision"]["by"] == "person"


def test_approved_token_denied_and_canceled_read_as_declared(
    wallet: Any, agent: Any, person: str
) -> None:
    token_request = agent.post("/spend_requests", json=spt_body(request_approval=True)).json()
    wallet.approve(token_request["id"], person)
    assert _same_as_declared(agent, token_request["id"])["status"] == "approved"
    denied = pending(agent)
    wallet.deny(denied["id"], person)
    assert _same_as_declared(agent, denied["id"])["status"] == "denied"
    canceled = approved(wallet, agent, person)
    assert agent.post(f"/spend_requests/{canceled['id']}/cancel").status_code == 200
    body = _same_as_declared(agent, canceled["id"])
    assert body["status"] == "canceled" and body["card_last4"]


def test_settled_details_read_as_declared(wallet: Any, agent: Any, person: str) -> None:
    request = approved(wallet, agent, person)
    details = {"outcome": "failure", "code": "card_declined", "amount": 1999, "created": 1}
    set_columns(wallet, request["id"], status="failed", payment_status_details=details)
    body = _same_as_declared(agent, request["id"])
    assert body["payment_status_details"]["code"] == "card_declined"


def test_a_due_expiry_is_persisted_as_before(wallet: Any, agent: Any) -> None:
    request = pending(agent)
    set_columns(wallet, request["id"], approval_expires_at=utcnow() - timedelta(seconds=1))
    answer = agent.get(f"/spend_requests/{request['id']}")
    assert answer.status_code == 200 and answer.json()["status"] == "expired"
    assert stored_status(wallet, request["id"]) == "expired"
    _same_as_declared(agent, request["id"])


def test_plain_retrieve_is_one_statement(
    agent: Any, statements: list[str], database_url: str
) -> None:
    request = create(agent)
    statements.clear()
    assert agent.get(f"/spend_requests/{request['id']}").status_code == 200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, statements
    assert not [s for s in statements if "IMMEDIATE" in s.upper()]  # no write lock
    statements.clear()
    assert agent.get(f"/spend_requests/{request['id']}", params={"include": ""}).is_success
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) > 1


def test_plain_retrieves_in_flight_are_capped(wallet: Any, agent: Any, agent_token: Any) -> None:
    """At most LANE_READS_IN_FLIGHT lane reads run at once; the rest wait their turn in
    the event loop and are answered all the same."""
    request = create(agent)
    engine = wallet.app.state.engine
    running = threading.Condition()
    in_flight = [0, 0]  # now, peak
    release = threading.Event()

    # Only the lane's statements count: the wallet's job worker also reads now and then
    # on the same engine (and once made a fifth "read in flight" here).
    def lane(*_args: Any) -> bool:
        return threading.current_thread().name.startswith(LANE_THREAD_NAME)

    def enter(*_args: Any) -> None:
        if not lane():
            return
        with running:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
            running.notify_all()
        release.wait(timeout=20)

    def leave(*_args: Any) -> None:
        if not lane():
            return
        with running:
            in_flight[0] -= 1

    def retrieve() -> int:
        with wallet.http(agent_token.access_token) as client:
            return int(client.get(f"/spend_requests/{request['id']}").status_code)

    event.listen(engine, "before_cursor_execute", enter)
    event.listen(engine, "after_cursor_execute", leave)
    try:
        with ThreadPoolExecutor(max_workers=3 * LANE_READS_IN_FLIGHT) as pool:
            answers = [pool.submit(retrieve) for _ in range(3 * LANE_READS_IN_FLIGHT)]
            with running:
                assert running.wait_for(lambda: in_flight[0] == LANE_READS_IN_FLIGHT, 20)
                # Unlimited, the other reads would be inside the database by now.
                assert not running.wait_for(lambda: in_flight[0] > LANE_READS_IN_FLIGHT, 0.5)
            release.set()
            assert [answer.result(timeout=30) for answer in answers] == [200] * len(answers)
    finally:
        release.set()
        event.remove(engine, "before_cursor_execute", enter)
        event.remove(engine, "after_cursor_execute", leave)
    assert in_flight == [0, LANE_READS_IN_FLIGHT]


def test_revocation_holds_on_the_next_plain_retrieve(wallet: Any, agent: Any) -> None:
    request = create(agent)
    assert agent.get(f"/spend_requests/{request['id']}").status_code == 200
    token = agent.headers["authorization"].partition(" ")[2]
    with wallet.session() as session:
        assert revoke_token(session, token)
    answer = agent.get(f"/spend_requests/{request['id']}")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "authentication_required"


def test_expired_token_is_401(wallet: Any, agent: Any) -> None:
    request = create(agent)
    token = agent.headers["authorization"].partition(" ")[2]
    with wallet.session() as session:
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.access_token_hash == hash_token(token))
            .values(access_expires_at=utcnow() - timedelta(seconds=1))
        )
    answer = agent.get(f"/spend_requests/{request['id']}")
    assert answer.status_code == 401


def test_token_without_the_payments_scope_is_403(wallet: Any, agent: Any, person: str) -> None:
    request = create(agent)
    token = wallet.agent_login(person, scope="userinfo:read").access_token
    with wallet.http(token) as narrow:
        answer = narrow.get(f"/spend_requests/{request['id']}")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic abc", "Bearer", "Bearer lk_rt_not-an-access-token", "bearer lk_at_unknown"],
)
def test_bad_authorization_is_401(wallet: Any, agent: Any, authorization: str) -> None:
    request = create(agent)
    with wallet.http() as anonymous:
        headers = {"Authorization": authorization} if authorization else {}
        answer = anonymous.get(f"/spend_requests/{request['id']}", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "authentication_required"


def test_lowercase_bearer_scheme_is_accepted(wallet: Any, agent: Any) -> None:
    request = create(agent)
    token = agent.headers["authorization"].partition(" ")[2]
    with wallet.http() as client:
        answer = client.get(
            f"/spend_requests/{request['id']}", headers={"Authorization": f"bearer {token}"}
        )
    assert answer.status_code == 200 and answer.json()["id"] == request["id"]
