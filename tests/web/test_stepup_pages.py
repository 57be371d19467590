"""Fresh confirmation over HTTP (SQLite and PostgreSQL): the older /limits page asks
for it before raising the per-request limit (not before lowering it), the confirm
page takes the person back where they were; once a passkey is enrolled, neither the
password nor a recent link sign-in counts, only the passkey."""

from __future__ import annotations

import json
import secrets
from typing import Any

from web_helpers import csrf_from, signed_in_client
from web_policy_helpers import age_sessions, stored_rules

PASSWORD = "correct horse battery"
LOOSER = [{"id": "all", "action": "auto_approve"}]


def _client(wallet: Any, person: str) -> Any:
    from linkpay.wallet.web.signin import set_password

    with wallet.session() as session:
        set_password(session, person, PASSWORD)
    client = signed_in_client(wallet, person)
    client.headers["Origin"] = wallet.base_url
    return client


def _per_request(wallet: Any, person: str) -> int:
    from linkpay.wallet.store.models import User

    with wallet.session() as session:
        user = session.get(User, person)
        assert user is not None
        return int(user.max_amount_per_request)


def _changes(wallet: Any, person: str) -> list[tuple[str, bool, str | None]]:
    from sqlalchemy import select

    from linkpay.wallet.store.policy_models import PolicyChange

    with wallet.session() as session:
        rows = session.scalars(
            select(PolicyChange).where(PolicyChange.user_id == person).order_by(PolicyChange.id)
        )
        return [(row.what, row.loosening, row.confirmed_by) for row in rows]


def test_limits_page_raising_needs_step_up(wallet: Any, person: str) -> None:
    client = _client(wallet, person)
    age_sessions(wallet, person)  # the sign-in is no longer fresh
    csrf = csrf_from(client.get("/limits").text)

    lowered = client.post("/limits", data={"max_amount": "100", "csrf_token": csrf})
    assert lowered.status_code == 303 and lowered.headers["location"] == "/limits?notice=limit"
    assert _per_request(wallet, person) == 10_000

    asked = client.post("/limits", data={"max_amount": "300", "csrf_token": csrf})
    assert asked.status_code == 403 and "Confirm it" in asked.text
    assert "per_request is raised" in asked.text
    assert 'name="back" value="/limits"' in asked.text
    assert _per_request(wallet, person) == 10_000

    carried = {"what": "limits", "payload": json.dumps({"per_request": 30_000})}
    wrong = client.post(
        "/rules/confirm",
        data={**carried, "back": "/limits", "password": "not my password", "csrf_token": csrf},
    )
    assert wrong.status_code == 403 and "not right" in wrong.text
    assert _per_request(wallet, person) == 10_000
    right = client.post(
        "/rules/confirm",
        data={**carried, "back": "/limits", "password": PASSWORD, "csrf_token": csrf},
    )
    assert right.status_code == 303 and right.headers["location"] == "/limits?notice=limit"
    assert _per_request(wallet, person) == 30_000
    assert _changes(wallet, person) == [
        ("limits", False, None),
        ("limits", True, "password"),
    ]
    # A confirm page cannot send the person anywhere else.
    elsewhere = client.post(
        "/rules/confirm",
        data={**carried, "back": "https://evil.example/", "csrf_token": csrf},
    )
    assert elsewhere.status_code == 303 and elsewhere.headers["location"].startswith("/rules?")


def test_with_a_passkey_only_the_passkey_confirms(wallet: Any, person: str) -> None:
    from linkpay.wallet.store.web_models import Passkey

    client = _client(wallet, person)  # a fresh sign-in, by link
    credential_id = secrets.token_urlsafe(16)
    with wallet.session() as session:
        session.add(
            Passkey(
                id=f"pk_{secrets.token_hex(8)}",
                user_id=person,
                credential_id=credential_id,
                public_key=b"\x00" * 32,
            )
        )
    csrf = csrf_from(client.get("/rules").text)
    asked = client.post("/rules", data={"rules_json": json.dumps(LOOSER), "csrf_token": csrf})
    assert asked.status_code == 403
    assert "Confirm with your passkey" in asked.text and 'type="password"' not in asked.text
    typed = client.post(
        "/rules/confirm",
        data={
            "what": "rules",
            "payload": json.dumps(LOOSER),
            "password": PASSWORD,
            "csrf_token": csrf,
        },
    )
    assert typed.status_code == 403 and "Confirm with your passkey" in typed.text
    assert stored_rules(wallet, person) == []

    options = client.post("/rules/confirm/passkey/options", headers={"X-CSRF-Token": csrf})
    assert options.status_code == 200
    assert [c["id"] for c in options.json()["allowCredentials"]] == [credential_id]
    forged = client.post(
        "/rules/confirm/passkey",
        json={"id": credential_id, "rawId": credential_id, "type": "public-key", "response": {}},
        headers={"X-CSRF-Token": csrf},
    )
    assert forged.status_code == 400 and "could not be verified" in forged.json()["error"]
    again = client.post(
        "/rules/confirm", data={"what": "rules", "payload": json.dumps(LOOSER), "csrf_token": csrf}
    )
    assert again.status_code == 403
    assert stored_rules(wallet, person) == []
    tighter = [{"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}}]
    saved = client.post("/rules", data={"rules_json": json.dumps(tighter), "csrf_token": csrf})
    assert saved.status_code == 303 and stored_rules(wallet, person) == tighter
