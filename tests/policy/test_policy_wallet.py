"""The policy in a running wallet, on SQLite and PostgreSQL: decisions at create,
the reservation ledger through approve, charge, cancel; refusals naming the limit;
the dry run and /balances figures."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from wallet_policy_helpers import (
    body,
    ledger_rows,
    set_budgets,
    set_limits,
    set_rules,
    wallet_total,
)

AUTO_SMALL = {"action": "auto_approve", "when": {"amount_at_most": 2000}}


@pytest.fixture
def agent(wallet: Any, person: str) -> Any:
    token = wallet.agent_login(person)
    with wallet.http(token.access_token) as client:
        yield client


def test_no_rules_means_the_person_decides(wallet: Any, agent: Any, person: str) -> None:
    created = agent.post("/spend_requests", json=body(request_approval=True)).json()
    assert created["status"] == "pending_approval" and "decision" not in created
    assert ledger_rows(wallet, created["id"]) == []
    wallet.approve(created["id"], person)
    after = agent.get(f"/spend_requests/{created['id']}").json()
    assert after["decision"]["by"] == "person" and after["decision"].get("rule") is None
    assert ledger_rows(wallet, created["id"]) == [("reserve", 1500)]
    assert agent.post(f"/spend_requests/{created['id']}/cancel").status_code == 200
    assert ledger_rows(wallet, created["id"]) == [("reserve", 1500), ("release", 1500)]
    assert wallet_total(wallet, person) == 0


def test_auto_approve_issues_at_create(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, AUTO_SMALL)
    created = agent.post("/spend_requests", json=body(1999)).json()
    assert created["status"] == "approved"
    assert created["decision"] == {
        "by": "policy",
        "rule": "r1",
        "reason": "Rule 1: Purchases up to $20 are approved automatically",
    }
    card = agent.get(f"/spend_requests/{created['id']}", params={"include": "card"}).json()
    assert card["card"]["number"]
    assert ledger_rows(wallet, created["id"]) == [("reserve", 1999)]
    bigger = agent.post("/spend_requests", json=body(2001, request_approval=True)).json()
    assert bigger["status"] == "pending_approval"


def test_deny_rule_records_the_refusal(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, {"action": "deny", "when": {"merchants": ["*.example"]}})
    created = agent.post("/spend_requests", json=body()).json()
    assert created["status"] == "denied"
    assert created["decision"]["by"] == "policy" and created["decision"]["rule"] == "r1"
    assert "refused" in created["decision"]["reason"]


def test_charge_consumes_and_releases_the_rest(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, AUTO_SMALL)
    shop = wallet.create_merchant(f"Books {secrets.token_hex(3)}", "https://books.example")
    created = agent.post("/spend_requests", json=body(1800)).json()
    card = agent.get(f"/spend_requests/{created['id']}", params={"include": "card"}).json()["card"]
    with wallet.http(shop[1]) as merchant:
        charged = merchant.post(
            "/v1/test_network/card_charges",
            json={
                "number": card["number"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "cvc": card["cvc"],
                "amount": 1500,
                "currency": "usd",
            },
        )
    assert charged.status_code == 200, charged.text
    assert ledger_rows(wallet, created["id"]) == [
        ("reserve", 1800),
        ("consume", 1500),
        ("release", 300),
    ]
    assert wallet_total(wallet, person) == 1500


def test_budget_refusal_names_it_and_says_when(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, AUTO_SMALL)
    set_budgets(wallet, person, {"period": "day", "amount": 3000})
    assert agent.post("/spend_requests", json=body(2000)).json()["status"] == "approved"
    refused = agent.post("/spend_requests", json=body(1001))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "budget_exceeded" and error["budget"] == "b1"
    assert error["remaining"] == 1000 and error["retry_after"] > 0
    assert refused.headers["Retry-After"] == str(error["retry_after"])
    assert agent.post("/spend_requests", json=body(1000)).json()["status"] == "approved"


def test_person_approval_is_held_to_the_budget(wallet: Any, agent: Any, person: str) -> None:
    set_budgets(wallet, person, {"period": "week", "amount": 2500})
    first = agent.post("/spend_requests", json=body(1500, request_approval=True)).json()
    second = agent.post("/spend_requests", json=body(1500, request_approval=True)).json()
    wallet.approve(first["id"], person)
    with pytest.raises(Exception, match="budget"):
        wallet.approve(second["id"], person)
    assert agent.get(f"/spend_requests/{second['id']}").json()["status"] == "pending_approval"


def test_limits_refuse_with_their_own_codes(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, {"action": "auto_approve"})
    set_limits(wallet, person, per_day=3000, creates_per_hour=3)
    assert agent.post("/spend_requests", json=body(2500)).status_code == 200
    daily = agent.post("/spend_requests", json=body(1000))
    assert (daily.status_code, daily.json()["error"]["code"]) == (429, "daily_limit_exceeded")
    assert 86_000 < daily.json()["error"]["retry_after"] <= 86_400
    assert agent.post("/spend_requests", json=body(500)).status_code == 200
    assert agent.post("/spend_requests", json=body(100)).status_code == 429  # hourly: 3 tried
    hourly = agent.post("/spend_requests", json=body(100)).json()["error"]
    assert hourly["code"] in ("agent_hourly_create_limit_reached", "daily_limit_exceeded")


def test_dry_run_writes_nothing_and_shows_figures(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, AUTO_SMALL)
    set_budgets(
        wallet, person, {"period": "day", "amount": 5000}, {"period": "month", "amount": 40000}
    )
    answer = agent.post("/spend_requests/check", json=body(1200))
    assert answer.status_code == 200, answer.text
    check = answer.json()
    assert check["outcome"] == "auto_approve" and check["rule"] == "r1"
    limits = {item["type"]: item for item in check["limits"]}
    assert limits["per_request"]["remaining"] == 50_000
    assert limits["per_day"]["remaining"] == 50_000
    assert [b["remaining"] for b in check["budgets"]] == [5000, 40000]
    assert agent.get("/spend_requests").json()["data"] == []
    too_big = agent.post("/spend_requests/check", json=body(6000)).json()
    assert too_big["outcome"] == "refused" and too_big["refusal"]["code"] == "budget_exceeded"
    bad = agent.post("/spend_requests/check", json=body(0))
    assert bad.status_code == 400  # the same field rules as create


def test_balances_figures(wallet: Any, agent: Any, person: str) -> None:
    set_rules(wallet, person, AUTO_SMALL)
    set_budgets(wallet, person, {"period": "day", "amount": 4000})
    agent.post("/spend_requests", json=body(1500))
    answer = agent.get("/balances")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["has_more"] is False and len(page["data"]) == 1
    balance = page["data"][0]
    assert balance["current"] == 2500
    types = {item["type"]: item["remaining"] for item in balance["limits"]}
    assert types["per_day"] == 48_500 and types["budget_day"] == 2500


def test_compiled_rules_follow_every_change(wallet: Any, person: str) -> None:
    """Rules are compiled once per policy version in each process; a change is seen by
    the next load, and a change that was rolled back never is, even when a later one
    reaches the same version number."""
    from linkpay.wallet.policy import edit
    from linkpay.wallet.policy.service import load_policy
    from linkpay.wallet.store.models import User

    def rule_ids() -> list[str]:
        with wallet.session() as session:
            user = session.get(User, person)
            return [rule.id for rule in load_policy(session, user).rules]

    def set_ids(*ids: str) -> None:
        raw = [{"id": rule_id, "action": "deny"} for rule_id in ids]
        with wallet.session() as session:
            edit.set_rules(session, person, raw, actor="test")

    set_ids("first")
    assert rule_ids() == ["first"]
    set_ids("first", "second")
    assert rule_ids() == ["first", "second"]
    with pytest.raises(RuntimeError), wallet.session() as session:
        raw = [{"id": "rolled-back", "action": "deny"}]
        edit.set_rules(session, person, raw, actor="test", confirmed_by="test")
        user = session.get(User, person)
        assert [rule.id for rule in load_policy(session, user).rules] == ["rolled-back"]
        raise RuntimeError("roll it back")
    assert rule_ids() == ["first", "second"]
    set_ids("first", "second", "third")  # the version the rolled-back change had
    assert rule_ids() == ["first", "second", "third"]


def test_delegated_creates_count_to_the_approved_unused_limit(wallet: Any, person: str) -> None:
    """A request approved elsewhere is created `approved`: it fills the last place of
    the approved-but-unused limit (it does not count itself twice), and the next one
    is refused."""
    set_limits(wallet, person, max_approved_unused=2)
    token = wallet.agent_login(person, scope="payment_methods.agentic spend_requests:approve")
    details = {"approval_details": {"method": "click", "approved_at": 1}}
    with wallet.http(token.access_token) as delegate:
        answers = [
            delegate.post("/spend_requests/create_delegated", json=body(**details))
            for _ in range(3)
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 409], answers[-1].text
    assert answers[2].json()["error"]["code"] == "approved_unused_limit_reached"
