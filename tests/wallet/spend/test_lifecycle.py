"""The state machine over HTTP and through the person's service calls: every legal
transition, and illegal ones answered 4xx with the state left as it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from spend_helpers import approved, create, pending, set_columns, stored_status

from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.spend import service
from linkpay.wallet.spend.states import TRANSITIONS, transition
from linkpay.wallet.store.models import SpendRequest, utcnow


def history(agent: Any, spend_request_id: str) -> list[tuple[str | None, str]]:
    data = agent.get("/spend_requests", params={"include_history": "true"}).json()["data"]
    found = next(item for item in data if item["id"] == spend_request_id)
    return [(event["from_status"], event["status"]) for event in found["status_history"]]


def test_created_to_pending_approval(wallet: Any, agent: Any) -> None:
    request = create(agent)
    assert request["status"] == "created"
    answer = agent.post(f"/spend_requests/{request['id']}/request_approval")
    assert answer.status_code == 200
    assert answer.json() == {
        "id": request["id"],
        "approval_link": f"{wallet.base_url}/approve/{request['id']}",
    }
    assert stored_status(wallet, request["id"]) == "pending_approval"
    assert history(agent, request["id"]) == [(None, "created"), ("created", "pending_approval")]


def test_pending_to_approved_issues_credential(wallet: Any, agent: Any, person: str) -> None:
    request = approved(wallet, agent, person)
    assert request["status"] == "approved"
    assert request["card_last4"] and request["card_brand"]
    assert "card" not in request  # only with include=card
    with_card = agent.get(f"/spend_requests/{request['id']}", params={"include": "card"}).json()
    assert with_card["card"]["number"].endswith(request["card_last4"])
    assert history(agent, request["id"])[-1] == ("pending_approval", "approved")


def test_pending_to_denied(wallet: Any, agent: Any, person: str) -> None:
    request = pending(agent)
    assert wallet.deny(request["id"], person).status == "denied"
    assert agent.get(f"/spend_requests/{request['id']}").json()["status"] == "denied"


@pytest.mark.parametrize("start", ["created", "pending_approval"])
def test_awaiting_decision_expires(wallet: Any, agent: Any, start: str) -> None:
    request = create(agent, request_approval=start == "pending_approval")
    set_columns(wallet, request["id"], approval_expires_at=utcnow() - timedelta(seconds=1))
    # reads expired at once, and the stored row follows when touched
    assert agent.get(f"/spend_requests/{request['id']}").json()["status"] == "expired"
    assert stored_status(wallet, request["id"]) == "expired"
    assert history(agent, request["id"])[-1] == (start, "expired")


def test_agent_deadline_caps_the_window(wallet: Any, agent: Any) -> None:
    request = pending(agent)
    set_columns(wallet, request["id"], expires_at=utcnow() - timedelta(seconds=1))
    assert agent.get(f"/spend_requests/{request['id']}").json()["status"] == "expired"


def test_approved_expires_and_credential_is_gone(wallet: Any, agent: Any, person: str) -> None:
    request = approved(wallet, agent, person)
    set_columns(wallet, request["id"], credential_valid_until=utcnow() - timedelta(seconds=1))
    answer = agent.get(f"/spend_requests/{request['id']}", params={"include": "card"}).json()
    assert answer["status"] == "expired"
    assert "card" not in answer
    assert stored_status(wallet, request["id"]) == "expired"
    from linkpay.wallet.store.models import Credential

    with wallet.session() as session:
        credential = session.query(Credential).filter_by(spend_request_id=request["id"]).one()
        assert credential.status == "voided"


@pytest.mark.parametrize("start", ["created", "pending_approval", "approved"])
def test_cancel(wallet: Any, agent: Any, person: str, start: str) -> None:
    if start == "approved":
        request = approved(wallet, agent, person)
    else:
        request = create(agent, request_approval=start == "pending_approval")
    answer = agent.post(f"/spend_requests/{request['id']}/cancel")
    assert answer.status_code == 200
    assert answer.json()["status"] == "canceled"
    assert history(agent, request["id"])[-1] == (start, "canceled")
    if start == "approved":
        card = agent.get(f"/spend_requests/{request['id']}", params={"include": "card"}).json()
        assert "card" not in card
        from linkpay.wallet.store.models import Credential

        with wallet.session() as session:
            credential = session.query(Credential).filter_by(spend_request_id=request["id"]).one()
            assert credential.status == "voided"
            assert credential.secret_ciphertext is None


OUTCOMES = {"succeeded": "success", "failed": "failure"}


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_approved_to_charged_outcomes(wallet: Any, agent: Any, person: str, outcome: str) -> None:
    """The network's transition (the test network uses the same compare-and-set)."""
    request = approved(wallet, agent, person)
    with wallet.session() as session:
        row = transition(
            session,
            request["id"],
            from_statuses=("approved",),
            to_status=outcome,
            actor="network",
            values={"payment_status_details": {"outcome": OUTCOMES[outcome]}},
        )
        assert row is not None and row.status == outcome
    answer = agent.get(f"/spend_requests/{request['id']}").json()
    assert answer["status"] == outcome
    assert answer["payment_status_details"]["outcome"] in ("success", "failure")
    # a second charge attempt of the same kind loses the compare-and-set
    with wallet.session() as session:
        assert (
            transition(
                session,
                request["id"],
                from_statuses=("approved",),
                to_status="succeeded",
                actor="network",
            )
            is None
        )


def test_version_and_updated_at_move_on_every_change(wallet: Any, agent: Any, person: str) -> None:
    request = create(agent)
    versions = []
    for step in ("request_approval", "approve"):
        if step == "request_approval":
            agent.post(f"/spend_requests/{request['id']}/request_approval")
        else:
            wallet.approve(request["id"], person)
        with wallet.session() as session:
            versions.append(session.get(SpendRequest, request["id"]).version)
    assert versions[0] == 2 and versions[1] == 3


# --- illegal transitions ------------------------------------------------------------


def _person_call(wallet: Any, action: str, spend_request_id: str, person: str) -> None:
    with wallet.session() as session:
        if action == "approve":
            service.approve_spend_request(
                session, user_id=person, spend_request_id=spend_request_id, settings=wallet.settings
            )
        else:
            service.deny_spend_request(session, user_id=person, spend_request_id=spend_request_id)


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("created", "approve"),  # never asked: the person cannot approve yet
        ("approved", "approve"),  # twice
        ("approved", "deny"),
        ("denied", "approve"),
        ("canceled", "approve"),
        ("expired", "approve"),
    ],
)
def test_illegal_person_decisions(
    wallet: Any, agent: Any, person: str, start: str, action: str
) -> None:
    request = _drive(wallet, agent, person, start)
    with pytest.raises(WalletError) as raised:
        _person_call(wallet, action, request["id"], person)
    assert 400 <= http_status(raised.value) < 500
    assert raised.value.code == "invalid_state"
    assert stored_status(wallet, request["id"]) == start


@pytest.mark.parametrize(
    ("start", "call"),
    [
        ("denied", "cancel"),
        ("canceled", "cancel"),
        ("expired", "cancel"),
        ("approved", "request_approval"),
        ("denied", "request_approval"),
        ("approved", "update"),
        ("canceled", "update"),
    ],
)
def test_illegal_agent_calls(wallet: Any, agent: Any, person: str, start: str, call: str) -> None:
    request = _drive(wallet, agent, person, start)
    before = agent.get(f"/spend_requests/{request['id']}").json()
    path = f"/spend_requests/{request['id']}"
    if call == "update":
        answer = agent.post(path, json={"amount": 500})
    else:
        answer = agent.post(f"{path}/{call}")
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "invalid_state"
    after = agent.get(path).json()
    assert after["status"] == start
    assert after["amount"] == before["amount"] and after["updated_at"] == before["updated_at"]


def _drive(wallet: Any, agent: Any, person: str, state: str) -> dict[str, Any]:
    if state == "created":
        return create(agent)
    if state == "approved":
        return approved(wallet, agent, person)
    request = pending(agent)
    if state == "denied":
        wallet.deny(request["id"], person)
    elif state == "canceled":
        agent.post(f"/spend_requests/{request['id']}/cancel")
    elif state == "expired":
        set_columns(wallet, request["id"], approval_expires_at=utcnow() - timedelta(seconds=1))
        agent.get(f"/spend_requests/{request['id']}")
    assert stored_status(wallet, request["id"]) == state
    return request


def test_transition_table_refuses_illegal_pairs(wallet: Any) -> None:
    for terminal in ("denied", "expired", "succeeded", "failed", "canceled"):
        assert TRANSITIONS[terminal] == frozenset()
    with wallet.session() as session, pytest.raises(ValueError):
        transition(session, "lsrq_x", from_statuses=("denied",), to_status="approved", actor="x")
