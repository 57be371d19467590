"""A shared wallet's approvers are each emailed, through a real SMTP server (aiosmtpd on
loopback), on SQLite and PostgreSQL: the owner and two approvers, a rule needing 2 of
3. Every one of the three gets their own message with the right link and text, the
viewer gets none, each link opens the approval page for its reader, and no message
ever carries the card number (not before the approvals, nor after the credential)."""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_helpers import create_spend_request, csrf_from, signed_in_client  # noqa: E402

_URL = re.compile(r"Open: (\S+)")


def _body(message: Any) -> str:
    return str(message.get_payload(decode=True).decode())


def _household(wallet: Any) -> dict[str, tuple[str, str]]:
    """name -> (user id, email): the owner, two approvers and a viewer."""
    from linkpay.wallet.policy import edit, quorum

    tag = secrets.token_hex(3)
    people = {}
    for name in ("owner", "ann", "bob", "val"):
        email = f"{name}-{tag}@example.com"
        people[name] = (wallet.create_user(email, name.title()), email)
    owner = people["owner"][0]
    wallet.add_test_card(owner)
    with wallet.session() as session:
        for name, role in (("ann", "approver"), ("bob", "approver"), ("val", "viewer")):
            quorum.add_member(session, owner, people[name][0], role)
        edit.set_rules(
            session,
            owner,
            [{"id": "two", "action": "require_approval", "approvers_required": 2}],
            actor="test",
            confirmed_by="test",
        )
    return people


def _approve(wallet: Any, user_id: str, link: str) -> None:
    client = signed_in_client(wallet, user_id)
    client.headers["Origin"] = wallet.base_url
    try:
        page = client.get(link)
        assert page.status_code == 200, page.text
        fields = {"csrf_token": csrf_from(page.text), "decision": "approve"}
        found = re.search(r'name="approval_hash" value="([^"]+)"', page.text)
        assert found, "the approval form carries the hash of what is approved"
        fields["approval_hash"] = found.group(1)
        answer = client.post(link, data=fields)
    finally:
        client.close()
    assert answer.status_code == 303, answer.text


def _email_jobs(wallet: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from linkpay.wallet.notify.outbox_jobs import EMAIL
    from linkpay.wallet.store.capacity_models import OutboxJob

    with wallet.session() as session:
        jobs = session.scalars(select(OutboxJob).where(OutboxJob.kind == EMAIL))
        return [dict(job.payload) for job in jobs]


def test_every_approver_gets_the_email(notify_wallet: Any, mail_sink: Any) -> None:
    sink, _port = mail_sink
    people = _household(notify_wallet)
    token = notify_wallet.agent_login(people["owner"][0], connection_label="Household agent")
    spend_id = create_spend_request(notify_wallet, token.access_token)
    link = f"{notify_wallet.base_url}/approve/{spend_id}"

    def about_this(message: Any) -> bool:
        return spend_id in _body(message)

    received = {}
    for name in ("owner", "ann", "bob"):
        email = people[name][1]
        received[name] = sink.wait_for(lambda m, to=email: m["To"] == to and about_this(m))

    for name, message in received.items():
        assert message["To"] == people[name][1]  # one reader per message, nobody in Cc
        assert message["Cc"] is None and message["Bcc"] is None
        assert message["From"] == "Wallet <wallet@example.com>"
        assert message["Subject"] == "A purchase needs your approval"
        body = _body(message)
        assert _URL.search(body).group(1) == link
        assert "Volt Supply: 25.99 USD (asked by Household agent)" in body
        assert "needs 2 of the 3 approvers" in body
        assert not re.search(r"\d{13,19}", body), "no card-like numbers in notifications"
    # All deliveries of one request are written together; the viewer has none.
    jobs = [job for job in _email_jobs(notify_wallet) if spend_id in job["message"]["url"]]
    deciders = sorted(people[name][1] for name in ("owner", "ann", "bob"))
    assert sorted(job["to"] for job in jobs) == deciders

    # Each reader's link opens the request for them; two approvals issue the card.
    _approve(notify_wallet, people["ann"][0], link)
    _approve(notify_wallet, people["bob"][0], link)
    with notify_wallet.http(token.access_token) as agent:
        card = agent.get(f"/spend_requests/{spend_id}", params={"include": "card"}).json()["card"]
    assert card["number"]
    with sink._cond:
        everything = [_body(m) for m in sink.messages]
    assert not [body for body in everything if card["number"] in body]
