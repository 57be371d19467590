"""A finished request's page says who ended it: "You denied…" only when the person did;
"stop everything" and a rule's automatic decision say so instead (SQLite and
PostgreSQL)."""

from __future__ import annotations

import html
from typing import Any

from web_helpers import create_spend_request, csrf_from, signed_in_client

AUTO = [{"id": "small", "action": "auto_approve", "when": {"amount_at_most": 3000}}]
DENY = [{"id": "no-casinos", "action": "deny", "when": {"merchants": ["*.casino"]}}]


def page_text(client: Any, spend_id: str) -> str:
    page = client.get(f"/approve/{spend_id}")
    assert page.status_code == 200
    return html.unescape(page.text)


def test_stop_everything_is_named_not_you_denied(wallet: Any, person: str) -> None:
    token = wallet.agent_login(person).access_token
    spend_id = create_spend_request(wallet, token)
    client = signed_in_client(wallet, person)
    home = client.get("/")
    stopped = client.post(
        "/pause",
        headers={"Origin": wallet.base_url},
        data={"csrf_token": csrf_from(home.text)},
    )
    assert stopped.status_code == 303
    text = page_text(client, spend_id)
    assert "Denied when you stopped all spending" in text
    assert "You denied" not in text


def test_a_person_deny_still_reads_you_denied(wallet: Any, person: str) -> None:
    token = wallet.agent_login(person).access_token
    spend_id = create_spend_request(wallet, token)
    wallet.deny(spend_id, person)
    text = page_text(signed_in_client(wallet, person), spend_id)
    assert "You denied this purchase." in text


def test_rule_decisions_name_the_rule(wallet: Any, person: str) -> None:
    from linkpay.wallet.policy import edit

    with wallet.session() as session:
        edit.set_rules(session, person, DENY + AUTO, actor="test", confirmed_by="test")
    token = wallet.agent_login(person).access_token
    approved = create_spend_request(wallet, token, amount=1200, totals=None, line_items=None)
    refused = create_spend_request(
        wallet, token, merchant_name="Lucky", merchant_url="https://spin.casino"
    )
    client = signed_in_client(wallet, person)
    text = page_text(client, approved)
    assert "One of your rules approved this purchase automatically" in text
    assert "You approved" not in text
    text = page_text(client, refused)
    assert "One of your rules denied this purchase automatically" in text
    assert "You denied" not in text
