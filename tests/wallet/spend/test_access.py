"""Who may do what: another person's request is a 404 on every endpoint (never 403),
an agent token can't approve (no agent route does; create_delegated needs the approval
scope), and the person's "stop everything" ends every live request."""

from __future__ import annotations

from typing import Any

import pytest
from spend_helpers import approved, card_body, create, pending, stored_status

from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.spend import service
from linkpay.wallet.store.models import Credential, User


def _every_endpoint(client: Any, spend_request_id: str) -> list[Any]:
    path = f"/spend_requests/{spend_request_id}"
    return [
        client.get(path),
        client.get(path, params={"include": "card"}),
        client.get(path, params={"wait": 1}),
        client.post(path, json={"amount": 100, "totals": [{"type": "total", "amount": 100}]}),
        client.post(f"{path}/request_approval"),
        client.post(f"{path}/cancel"),
    ]


@pytest.mark.parametrize("state", ["created", "approved"])
def test_other_persons_request_is_404_everywhere(
    wallet: Any, agent: Any, person: str, other_agent: Any, state: str
) -> None:
    request = create(agent) if state == "created" else approved(wallet, agent, person)
    for answer in _every_endpoint(other_agent, request["id"]):
        assert answer.status_code == 404, (answer.request.url, answer.text)
        assert answer.json()["error"]["code"] == "not_found"
        assert "card" not in answer.text
    assert other_agent.get("/spend_requests", params={"include_history": "true"}).json() == {
        "data": [],
        "has_more": False,
    }
    assert stored_status(wallet, request["id"]) == state
    # and the person's service calls refuse someone else's id the same way
    with wallet.session() as session, pytest.raises(WalletError) as raised:
        service.approve_spend_request(
            session,
            user_id=other_agent.user_id,
            spend_request_id=request["id"],
            settings=wallet.settings,
        )
    assert http_status(raised.value) == 404


def test_unknown_id_is_404(agent: Any) -> None:
    for answer in _every_endpoint(agent, "lsrq_doesnotexist"):
        assert answer.status_code == 404


def test_no_token_is_401(wallet: Any) -> None:
    with wallet.http() as anonymous:
        assert anonymous.get("/spend_requests").status_code == 401
        assert anonymous.post("/spend_requests", json=card_body()).status_code == 401
        assert (
            anonymous.post("/spend_requests/create_delegated", json=card_body()).status_code == 401
        )


def test_agent_has_no_approve_route(agent: Any) -> None:
    request = pending(agent)
    for path in (
        f"/spend_requests/{request['id']}/approve",
        f"/spend_requests/{request['id']}/deny",
    ):
        assert agent.post(path).status_code in (404, 405)
    assert agent.get(f"/spend_requests/{request['id']}").json()["status"] == "pending_approval"


def test_create_delegated_needs_the_approval_scope(agent: Any) -> None:
    answer = agent.post(
        "/spend_requests/create_delegated",
        json=card_body(approval_details={"method": "click", "approved_at": 1}),
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert agent.get("/spend_requests").json()["data"] == []


def test_create_delegated_with_scope(wallet: Any, person: str) -> None:
    token = wallet.agent_login(person, scope="payment_methods.agentic spend_requests:approve")
    with wallet.http(token.access_token) as delegate:
        missing = delegate.post("/spend_requests/create_delegated", json=card_body())
        assert missing.status_code == 400
        assert missing.json()["error"]["param"] == "approval_details"
        answer = delegate.post(
            "/spend_requests/create_delegated",
            json=card_body(approval_details={"method": "click", "approved_at": 1}),
        )
        assert answer.status_code == 200, answer.text
        created = answer.json()
        assert created["status"] == "approved"
        assert "card" not in created
        card = delegate.get(f"/spend_requests/{created['id']}", params={"include": "card"}).json()
        assert card["card"]["number"].endswith(created["card_last4"])


def test_pause_spending_stops_everything(wallet: Any, agent: Any, person: str) -> None:
    made = create(agent)
    waiting = pending(agent)
    live = approved(wallet, agent, person)
    with wallet.session() as session:
        service.pause_spending(session, person)
    assert stored_status(wallet, made["id"]) == "denied"
    assert stored_status(wallet, waiting["id"]) == "denied"
    assert stored_status(wallet, live["id"]) == "canceled"
    with wallet.session() as session:
        credential = session.query(Credential).filter_by(spend_request_id=live["id"]).one()
        assert credential.status == "voided"
        assert session.get(User, person).spending_paused is True
    assert agent.post("/spend_requests", json=card_body()).status_code == 403
    with wallet.session() as session:
        service.resume_spending(session, person)
    assert agent.post("/spend_requests", json=card_body()).status_code == 200
