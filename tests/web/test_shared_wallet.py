"""Shared wallets over HTTP (SQLite and PostgreSQL): an owner and two approvers, a
rule requiring 2 of 3. The credential exists only after the second approval; the
approval page lists who approved; one deny ends the request; a quorum not reached in
the window expires; a viewer can look but not decide; every approver is told."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from web_helpers import create_spend_request, csrf_from, force_expiry, signed_in_client
from web_policy_helpers import agent_view


def _client(wallet: Any, user_id: str) -> Any:
    client = signed_in_client(wallet, user_id)
    client.headers["Origin"] = wallet.base_url
    return client


@pytest.fixture
def household(wallet: Any, person: str) -> dict[str, Any]:
    from linkpay.wallet.policy import edit, quorum

    people = {"owner": person}
    for name, role in (("ann", "approver"), ("bob", "approver"), ("val", "viewer")):
        user_id = wallet.create_user(f"{name}-{secrets.token_hex(3)}@example.com", name.title())
        people[name] = user_id
        with wallet.session() as session:
            quorum.add_member(session, person, user_id, role)
    with wallet.session() as session:
        edit.set_rules(
            session,
            person,
            [{"id": "two", "action": "require_approval", "approvers_required": 2}],
            actor="test",
            confirmed_by="test",
        )
    token = wallet.agent_login(person).access_token
    return {"people": people, "token": token}


def _decide(wallet: Any, user_id: str, spend_id: str, decision: str) -> Any:
    client = _client(wallet, user_id)
    page = client.get(f"/approve/{spend_id}")
    assert page.status_code == 200, page.text
    fields = {"csrf_token": csrf_from(page.text), "decision": decision}
    found = re.search(r'name="approval_hash" value="([^"]+)"', page.text)
    if found:
        fields["approval_hash"] = found.group(1)
    return client.post(f"/approve/{spend_id}", data=fields)


def test_two_of_three_then_credential(wallet: Any, household: dict[str, Any]) -> None:
    people, token = household["people"], household["token"]
    spend_id = create_spend_request(wallet, token)
    first = _decide(wallet, people["ann"], spend_id, "approve")
    assert first.status_code == 303 and first.headers["location"].endswith("notice=voted")
    waiting = agent_view(wallet, token, spend_id)
    assert waiting["status"] == "pending_approval" and "card" not in waiting
    page = _client(wallet, people["owner"]).get(f"/approve/{spend_id}").text
    assert "Approvers: 1 of 2 needed" in page and "Ann approved" in page
    again = _decide(wallet, people["ann"], spend_id, "approve")
    assert again.status_code == 409  # one vote each
    second = _decide(wallet, people["bob"], spend_id, "approve")
    assert second.headers["location"].endswith("notice=approved")
    done = agent_view(wallet, token, spend_id)
    assert done["status"] == "approved" and done["card"]["number"]
    assert done["decision"]["by"] == "person"


def test_one_deny_ends_it(wallet: Any, household: dict[str, Any]) -> None:
    people, token = household["people"], household["token"]
    spend_id = create_spend_request(wallet, token)
    _decide(wallet, people["ann"], spend_id, "approve")
    denied = _decide(wallet, people["bob"], spend_id, "deny")
    assert denied.headers["location"].endswith("notice=denied")
    assert agent_view(wallet, token, spend_id)["status"] == "denied"


def test_quorum_not_reached_in_time_expires(wallet: Any, household: dict[str, Any]) -> None:
    people, token = household["people"], household["token"]
    spend_id = create_spend_request(wallet, token)
    _decide(wallet, people["ann"], spend_id, "approve")
    force_expiry(wallet, spend_id)
    assert agent_view(wallet, token, spend_id)["status"] == "expired"
    late = _decide(wallet, people["bob"], spend_id, "approve")
    assert late.status_code == 409
    assert agent_view(wallet, token, spend_id)["status"] == "expired"


def test_viewer_reads_but_does_not_decide(wallet: Any, household: dict[str, Any]) -> None:
    people, token = household["people"], household["token"]
    spend_id = create_spend_request(wallet, token)
    refused = _decide(wallet, people["val"], spend_id, "approve")
    assert refused.status_code in (403, 409)
    assert agent_view(wallet, token, spend_id)["status"] == "pending_approval"
    stranger = wallet.create_user(f"eve-{secrets.token_hex(3)}@example.com")
    assert _client(wallet, stranger).get(f"/approve/{spend_id}").status_code == 404


def test_every_approver_is_notified(wallet: Any, household: dict[str, Any]) -> None:
    from linkpay.wallet.policy.quorum import deciders

    with wallet.session() as session:
        told = deciders(session, household["people"]["owner"])
    people = household["people"]
    assert set(told) == {people["owner"], people["ann"], people["bob"]}
