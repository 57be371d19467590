"""Email through a real SMTP server (aiosmtpd on loopback): the approval email reaches
the person and its link opens the right approval page; device-login emails; email
sign-in links. No card data ever appears in an email."""

from __future__ import annotations

import html
import re
import secrets
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_helpers import create_spend_request, csrf_from, signed_in_client  # noqa: E402

_URL = re.compile(r"Open: (\S+)")


def _body(message: Any) -> str:
    return message.get_payload(decode=True).decode()


def test_approval_email_links_to_the_approval_page(notify_wallet: Any, mail_sink: Any) -> None:
    sink, _port = mail_sink
    email = f"ada-{secrets.token_hex(4)}@example.com"
    person = notify_wallet.create_user(email, "Ada Lovelace")
    notify_wallet.add_test_card(person)
    token = notify_wallet.agent_login(person)
    spend_id = create_spend_request(notify_wallet, token.access_token)

    message = sink.wait_for(lambda m: m["To"] == email and "purchase" in m["Subject"])
    assert message["From"] == "Wallet <wallet@example.com>"
    body = _body(message)
    link = _URL.search(body).group(1)
    assert link == f"{notify_wallet.base_url}/approve/{spend_id}"
    assert "Volt Supply" in body and "25.99 USD" in body
    assert not re.search(r"\d{13,19}", body), "no card-like numbers in notifications"

    client = signed_in_client(notify_wallet, person)
    try:
        page = client.get(link)
    finally:
        client.close()
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert spend_id in text and "Volt Supply" in text and "$25.99 USD" in text


def test_device_login_email_on_a_single_person_wallet(mail_sink: Any) -> None:
    from linkpay.wallet.embedded import start_embedded_wallet

    sink, port = mail_sink
    overrides = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none"}
    with start_embedded_wallet(settings_overrides=overrides) as wallet:
        email = f"solo-{secrets.token_hex(4)}@example.com"
        wallet.create_user(email)
        with wallet.http() as agent:
            agent.post(
                "/device/code",
                data={"client_id": "link-cli", "connection_label": "Claude Code on laptop"},
            )
        message = sink.wait_for(lambda m: m["To"] == email)
        body = _body(message)
        assert "Claude Code on laptop wants to connect" in body
        assert _URL.search(body).group(1) == f"{wallet.base_url}/device"


def test_email_signin_link(notify_wallet: Any, mail_sink: Any) -> None:
    sink, _port = mail_sink
    email = f"grace-{secrets.token_hex(4)}@example.com"
    notify_wallet.create_user(email, "Grace Hopper")
    origin = {"Origin": notify_wallet.base_url}
    with notify_wallet.http(follow_redirects=False) as client:
        form = client.get("/signin")
        assert "Email me a sign-in link" in form.text
        sent = client.post(
            "/signin/email",
            headers=origin,
            data={"csrf_token": csrf_from(form.text), "email": email.upper(), "next": "/activity"},
        )
        assert sent.status_code == 200
        unknown = client.post(
            "/signin/email",
            headers=origin,
            data={"csrf_token": csrf_from(form.text), "email": "nobody@example.com"},
        )
        assert html.unescape(unknown.text).count("a sign-in link is on its way") == 1

        message = sink.wait_for(lambda m: m["To"] == email)
        link = _URL.search(_body(message)).group(1)
        assert link.startswith(f"{notify_wallet.base_url}/signin/")
        page = client.get(link)
        done = client.post(
            link.split("?")[0],
            headers=origin,
            data={"csrf_token": csrf_from(page.text), "next": "/activity"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/activity"
        assert client.get("/activity").status_code == 200


def test_request_approval_call_sends_the_email_and_signed_out_link_asks_to_sign_in(
    notify_wallet: Any, mail_sink: Any
) -> None:
    sink, _port = mail_sink
    email = f"later-{secrets.token_hex(4)}@example.com"
    person = notify_wallet.create_user(email)
    notify_wallet.add_test_card(person)
    token = notify_wallet.agent_login(person)
    spend_id = create_spend_request(notify_wallet, token.access_token, request_approval=False)
    with notify_wallet.http(token.access_token) as agent:
        asked = agent.post(f"/spend_requests/{spend_id}/request_approval")
    assert asked.status_code == 200, asked.text
    message = sink.wait_for(lambda m: m["To"] == email and spend_id in _body(m))
    link = _URL.search(_body(message)).group(1)
    with notify_wallet.http(follow_redirects=False) as stranger:
        answer = stranger.get(link)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/signin?next=/approve/{spend_id}"
