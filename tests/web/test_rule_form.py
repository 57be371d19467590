"""The rules page's plain form over HTTP (SQLite and PostgreSQL): it produces the same
rule JSON as the advanced editor, says the rule in plain words, previews without
saving, refuses what isn't valid with a message (nothing saved), removes rules
(asking for confirmation when removing loosens), and escapes agent-supplied names."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from web_helpers import create_spend_request, csrf_from, signed_in_client
from web_policy_helpers import age_sessions, forget_step_up, stored_rules

HOSTILE = '<img src=x onerror="alert(1)">Shopper'


def _client(wallet: Any, person: str) -> Any:
    client = signed_in_client(wallet, person)
    client.headers["Origin"] = wallet.base_url
    return client


def _family(wallet: Any, person: str, label: str) -> str:
    from sqlalchemy import select

    from linkpay.wallet.store.models import OAuthToken

    wallet.agent_login(person, connection_label=label)
    with wallet.session() as session:
        return str(
            session.scalars(
                select(OAuthToken.family_id).where(
                    OAuthToken.user_id == person, OAuthToken.connection_label == label
                )
            ).first()
        )


def _form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, **{f"rule_{name}": value for name, value in fields.items()}}


def test_form_makes_the_same_json_as_the_editor(wallet: Any, person: str) -> None:
    family = _family(wallet, person, "Book agent")
    client = _client(wallet, person)
    page = client.get("/rules")
    assert "Add a rule" in page.text and "Advanced: edit the rules as JSON" in page.text
    csrf = csrf_from(page.text)
    fields = {
        "action": "auto_approve",
        "merchants": "*.books.example, books.example",
        "amount_at_most": "$15.50",
        "per_day": "3",
        "agent": family,
        "position": "first",
    }
    added = client.post("/rules/add", data={**_form(csrf, **fields), "intent": "save"})
    assert added.status_code == 303 and added.headers["location"] == "/rules?notice=saved"
    expected = {
        "id": "auto-1",
        "action": "auto_approve",
        "when": {
            "agents": [family],
            "merchants": ["*.books.example", "books.example"],
            "amount_at_most": 1550,
            "count": {"max": 3, "period": "day"},
        },
    }
    assert stored_rules(wallet, person) == [expected]
    shown = html.unescape(client.get("/rules").text)
    assert (
        "Purchases up to $15.50 at any site under books.example or books.example from Book "
        "agent are approved automatically, at most 3 a day"
    ) in shown

    # The same rule through the JSON editor is stored the same way.
    other = wallet.create_user(f"json-{family[-6:]}@example.com")
    editor = _client(wallet, other)
    editor_csrf = csrf_from(editor.get("/rules").text)
    as_json = {"rules_json": json.dumps([expected]), "csrf_token": editor_csrf}
    saved = editor.post("/rules", data=as_json)
    assert saved.status_code == 303
    assert stored_rules(wallet, other) == [expected]

    # A second rule, last: a deny, with only a merchant; ids don't collide.
    denied = client.post(
        "/rules/add",
        data={**_form(csrf, action="deny", merchants="*.casino", position="last")},
    )
    assert denied.status_code == 303
    assert [rule["id"] for rule in stored_rules(wallet, person)] == ["auto-1", "deny-1"]
    assert stored_rules(wallet, person)[1] == {
        "id": "deny-1",
        "action": "deny",
        "when": {"merchants": ["*.casino"]},
    }


def test_preview_saves_nothing_and_bad_input_says_why(wallet: Any, person: str) -> None:
    token = wallet.agent_login(person).access_token
    for amount in (1000, 2500):
        create_spend_request(wallet, token, amount=amount, totals=None, line_items=None)
    client = _client(wallet, person)
    csrf = csrf_from(client.get("/rules").text)
    shown = client.post(
        "/rules/add",
        data={**_form(csrf, action="auto_approve", amount_at_most="20"), "intent": "preview"},
    )
    assert shown.status_code == 200
    assert "would have approved 1 automatically, asked you about 1" in shown.text
    assert 'value="20"' in shown.text  # the form keeps what was typed
    assert stored_rules(wallet, person) == []

    for fields, message in (
        ({"action": "auto_approve", "amount_at_most": "lots"}, "Amount: a dollar figure"),
        ({"action": "auto_approve", "per_day": "0"}, "a whole number from 1 to 10000"),
        ({"action": "auto_approve", "merchants": "bad/site"}, "is not a domain pattern"),
        ({"action": "auto_approve", "agent": "tfam_not_mine"}, "one of your connected agents"),
        ({"action": "approve_everything"}, "Choose what happens"),
    ):
        refused = client.post("/rules/add", data=_form(csrf, **fields))
        assert refused.status_code == 400, fields
        assert message in html.unescape(refused.text), (fields, refused.text)
    assert stored_rules(wallet, person) == []


def test_remove_asks_only_when_it_loosens(wallet: Any, person: str) -> None:
    from linkpay.wallet.policy import edit

    rules = [
        {"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}},
        {"id": "small", "action": "auto_approve", "when": {"amount_at_most": 1000}},
    ]
    with wallet.session() as session:
        edit.set_rules(session, person, rules, actor="test", confirmed_by="test")
    client = _client(wallet, person)
    page = client.get("/rules").text
    assert page.count('action="/rules/remove"') == 2
    csrf = csrf_from(page)
    age_sessions(wallet, person)
    forget_step_up(wallet, person)
    asked = client.post("/rules/remove", data={"rule_id": "casino", "csrf_token": csrf})
    assert asked.status_code == 403 and "rule casino (deny) is removed" in html.unescape(asked.text)
    removed = client.post("/rules/remove", data={"rule_id": "small", "csrf_token": csrf})
    assert removed.status_code == 303
    assert [rule["id"] for rule in stored_rules(wallet, person)] == ["casino"]


def test_agent_names_are_escaped(wallet: Any, person: str) -> None:
    from linkpay.wallet.policy import edit

    family = _family(wallet, person, HOSTILE)
    with wallet.session() as session:
        edit.set_rules(
            session,
            person,
            [{"id": "theirs", "action": "require_approval", "when": {"agents": [family]}}],
            actor="test",
            confirmed_by="test",
        )
    page = _client(wallet, person).get("/rules").text
    assert "<img src=x" not in page
    assert re.search(r"<option value=\"tfam_[^\"]+\">&lt;img src=x onerror=", page)
    assert "from &lt;img src=x onerror=&#34;alert(1)&#34;&gt;Shopper need your approval" in page
