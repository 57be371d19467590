"""The rules and spending pages over HTTP (SQLite and PostgreSQL): agent tokens get
403 on every rule-changing endpoint; pages say rules in plain words; a loosening from
a session that isn't fresh must be confirmed, tightening need not; the preview
replays the last 30 days."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web_helpers import create_spend_request, csrf_from, signed_in_client
from web_policy_helpers import age_sessions, stored_rules

RULE_ENDPOINTS = [
    ("GET", "/rules"),
    ("POST", "/rules"),
    ("POST", "/rules/preview"),
    ("POST", "/rules/budgets"),
    ("POST", "/rules/limits"),
    ("POST", "/rules/confirm"),
    ("POST", "/rules/confirm/passkey/options"),
    ("POST", "/rules/confirm/passkey"),
]
AUTO = [{"id": "small", "action": "auto_approve", "when": {"amount_at_most": 3000}}]
DENY = [{"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}}]


def person_client(wallet: Any, person: str) -> Any:
    client = signed_in_client(wallet, person)
    client.headers["Origin"] = wallet.base_url  # the browser's same-origin form posts
    return client


@pytest.mark.parametrize(("method", "path"), RULE_ENDPOINTS)
def test_agent_tokens_get_403(wallet: Any, person: str, method: str, path: str) -> None:
    token = wallet.agent_login(person).access_token
    with wallet.http(token) as agent:
        answer = agent.request(method, path, data={"rules_json": json.dumps(AUTO)})
    assert answer.status_code == 403
    assert stored_rules(wallet, person) == []


def test_rules_in_plain_words_and_step_up(wallet: Any, person: str) -> None:
    from linkpay.wallet.web.signin import set_password

    with wallet.session() as session:
        set_password(session, person, "correct horse battery")
    client = person_client(wallet, person)
    page = client.get("/rules")
    assert page.status_code == 200 and "No rules yet." in page.text
    csrf = csrf_from(page.text)

    # A fresh sign-in confirms: the loosening saves at once.
    saved = client.post("/rules", data={"rules_json": json.dumps(AUTO), "csrf_token": csrf})
    assert saved.status_code == 303, saved.text
    assert "Purchases up to $30 are approved automatically" in client.get("/rules").text

    # Later, a loosening needs the password again; tightening doesn't.
    age_sessions(wallet, person)
    looser = [{"id": "all", "action": "auto_approve"}]
    asked = client.post("/rules", data={"rules_json": json.dumps(looser), "csrf_token": csrf})
    assert asked.status_code == 403 and "Confirm it" in asked.text
    assert stored_rules(wallet, person)[0]["id"] == "small"
    wrong = client.post(
        "/rules/confirm",
        data={
            "what": "rules",
            "payload": json.dumps(looser),
            "password": "nope nope nope",
            "csrf_token": csrf,
        },
    )
    assert wrong.status_code == 403 and "not right" in wrong.text
    right = client.post(
        "/rules/confirm",
        data={
            "what": "rules",
            "payload": json.dumps(looser),
            "password": "correct horse battery",
            "csrf_token": csrf,
        },
    )
    assert right.status_code == 303
    assert stored_rules(wallet, person)[0]["id"] == "all"

    age_sessions(wallet, person, minutes=60)
    with wallet.session() as session:  # forget the password step-up too
        from sqlalchemy import update

        from linkpay.wallet.store.web_models import WebSession

        session.execute(update(WebSession).where(WebSession.user_id == person).values(data={}))
    tighter = client.post("/rules", data={"rules_json": json.dumps(DENY), "csrf_token": csrf})
    assert tighter.status_code == 303  # dropping auto-approve, adding deny: no confirmation
    budgets = [{"id": "daily", "period": "day", "amount": 5000}]
    added = client.post(
        "/rules/budgets", data={"budgets_json": json.dumps(budgets), "csrf_token": csrf}
    )
    assert added.status_code == 303  # a new budget only tightens
    raised = [{"id": "daily", "period": "day", "amount": 9000}]
    asked = client.post(
        "/rules/budgets", data={"budgets_json": json.dumps(raised), "csrf_token": csrf}
    )
    assert asked.status_code == 403 and "budget daily is raised" in asked.text
    limit = client.post("/rules/limits", data={"per_day": "100", "csrf_token": csrf})
    assert limit.status_code == 303  # lowering a limit: no confirmation
    limit = client.post("/rules/limits", data={"per_day": "400", "csrf_token": csrf})
    assert limit.status_code == 403  # raising it again: confirmation
    bad = client.post("/rules", data={"rules_json": '[{"id": 1}]', "csrf_token": csrf})
    assert bad.status_code == 400


def test_preview_replays_the_last_30_days(wallet: Any, person: str) -> None:
    token = wallet.agent_login(person).access_token
    for amount in (1000, 2500, 4000):
        create_spend_request(wallet, token, amount=amount, totals=None, line_items=None)
    client = person_client(wallet, person)
    csrf = csrf_from(client.get("/rules").text)
    shown = client.post("/rules/preview", data={"rules_json": json.dumps(AUTO), "csrf_token": csrf})
    assert shown.status_code == 200
    assert "would have approved 2 automatically, asked you about 1 and refused 0" in shown.text
    assert stored_rules(wallet, person) == []  # a preview saves nothing


def test_spending_page_draws_svg(wallet: Any, person: str) -> None:
    client = person_client(wallet, person)
    page = client.get("/spending")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 2 and "<script" not in page.text.split("<main")[-1]


def test_activity_says_who_decided_and_why(wallet: Any, person: str) -> None:
    from linkpay.wallet.policy import edit

    with wallet.session() as session:
        edit.set_rules(session, person, AUTO, actor="test", confirmed_by="test")
    token = wallet.agent_login(person).access_token
    create_spend_request(wallet, token, amount=1200, totals=None, line_items=None)
    page = person_client(wallet, person).get("/activity")
    assert page.status_code == 200
    assert "Your rules decided: Rule 1: Purchases up to $30 are approved automatically" in page.text
