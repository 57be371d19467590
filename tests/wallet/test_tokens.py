"""Access/refresh tokens: authz on the agent API, expiry, rotation, reuse, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from linkpay.wallet.auth.tokens import hash_token, list_connections, revoke_family
from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.store.models import OAuthToken, utcnow


def refresh(wallet: Any, refresh_token: str, client_id: str = "link-cli") -> Any:
    with wallet.http() as client:
        return client.post(
            "/device/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
            },
        )


def status_of(wallet: Any, access_token: str | None, path: str = "/userinfo") -> int:
    with wallet.http(access_token) as client:
        return int(client.get(path).status_code)


def test_no_token_or_bad_token_is_401(wallet: Any) -> None:
    with wallet.http() as client:
        answer = client.get("/payment-details")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "authentication_required"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert status_of(wallet, "lk_at_madeup") == 401
    assert status_of(wallet, "garbage") == 401
    with wallet.http(headers={"Authorization": "Basic dXNlcjpwdw=="}) as client:
        assert client.get("/userinfo").status_code == 401


def test_expired_access_token_is_401(wallet: Any, agent_token: Any) -> None:
    assert status_of(wallet, agent_token.access_token) == 200
    with wallet.session() as s:
        s.execute(
            update(OAuthToken)
            .where(OAuthToken.access_token_hash == hash_token(agent_token.access_token))
            .values(access_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert status_of(wallet, agent_token.access_token) == 401


def test_refresh_rotates_and_old_refresh_is_refused(wallet: Any, agent_token: Any) -> None:
    first = refresh(wallet, agent_token.refresh_token)
    assert first.status_code == 200, first.text
    new = first.json()
    assert new["refresh_token"] != agent_token.refresh_token
    assert new["access_token"] != agent_token.access_token
    assert status_of(wallet, new["access_token"]) == 200
    # replaying the old refresh token: refused, and the whole login is revoked
    replay = refresh(wallet, agent_token.refresh_token)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert status_of(wallet, new["access_token"]) == 401
    assert refresh(wallet, new["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_needs_the_same_client(wallet: Any, agent_token: Any) -> None:
    assert refresh(wallet, agent_token.refresh_token, "someone-else").status_code == 400
    assert refresh(wallet, agent_token.refresh_token).status_code == 200


def test_expired_refresh_token_is_refused(wallet: Any, agent_token: Any) -> None:
    with wallet.session() as s:
        s.execute(
            update(OAuthToken)
            .where(OAuthToken.refresh_token_hash == hash_token(agent_token.refresh_token))
            .values(refresh_expires_at=utcnow() - timedelta(seconds=1))
        )
    answer = refresh(wallet, agent_token.refresh_token)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_revoke_stops_the_token_and_its_login(wallet: Any, agent_token: Any) -> None:
    assert status_of(wallet, agent_token.access_token) == 200
    with wallet.http() as client:
        answer = client.post(
            "/device/revoke", data={"client_id": "link-cli", "token": agent_token.refresh_token}
        )
        assert answer.status_code == 200 and answer.json() == {"revoked": True}
        unknown = client.post("/device/revoke", data={"client_id": "x", "token": "nope"})
        assert unknown.status_code == 200 and unknown.json() == {"revoked": False}
    assert status_of(wallet, agent_token.access_token) == 401
    assert refresh(wallet, agent_token.refresh_token).json()["error"] == "invalid_grant"


def test_connections_listed_and_revoked_by_the_person(wallet: Any, person: str) -> None:
    one = wallet.agent_login(person, connection_label="Claude Code on laptop")
    two = wallet.agent_login(person, connection_label="Cursor on desktop")
    refreshed = refresh(wallet, one.refresh_token).json()  # rotation stays one connection
    with wallet.session() as s:
        connections = list_connections(s, person)
    labels = sorted(c.connection_label or "" for c in connections)
    assert labels == ["Claude Code on laptop", "Cursor on desktop"]
    target = next(c for c in connections if c.connection_label == "Claude Code on laptop")
    other_user = wallet.create_user("someone-else-" + person[-6:] + "@example.com")
    with wallet.session() as s:
        try:
            revoke_family(s, user_id=other_user, family_id=target.family_id)
        except WalletError as exc:
            assert http_status(exc) == 404
        else:
            raise AssertionError("another person's connection must be a 404")
    with wallet.session() as s:
        revoke_family(s, user_id=person, family_id=target.family_id)
    assert status_of(wallet, refreshed["access_token"]) == 401
    assert status_of(wallet, two.access_token) == 200
    with wallet.session() as s:
        assert [c.connection_label for c in list_connections(s, person)] == ["Cursor on desktop"]


def test_scopes_are_enforced(wallet: Any, person: str) -> None:
    narrow = wallet.agent_login(person, scope="userinfo:read")
    assert status_of(wallet, narrow.access_token, "/userinfo") == 200
    with wallet.http(narrow.access_token) as client:
        answer = client.get("/payment-details")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


def test_agent_tokens_have_no_route_to_approve_or_change_limits(
    wallet: Any, agent_token: Any
) -> None:
    """Approving, denying and limits are the person's: no agent API operation does
    them, and the person's web routes don't accept an agent's bearer token."""
    schema = wallet.app.openapi()
    for path, operations in schema["paths"].items():
        last = path.rstrip("/").split("/")[-1]
        for method in operations:
            assert last not in ("approve", "deny", "limits"), f"{method} {path}"
            assert "limit" not in path, f"{method} {path}"
    body = {
        "amount": 1500,
        "currency": "usd",
        "merchant_name": "Book Shop",
        "merchant_url": "https://books.example",
        "context": "Buying the book the person asked for in chat; " * 3,
    }
    with wallet.http(agent_token.access_token) as client:
        created = client.post("/spend_requests", json=body)
        assert created.status_code == 200, created.text
        spend_id = created.json()["id"]
        assert client.post(f"/spend_requests/{spend_id}/request_approval").status_code == 200
        for path in (
            f"/approve/{spend_id}",
            f"/spend_requests/{spend_id}/approve",
            f"/spend_requests/{spend_id}/deny",
        ):
            answer = client.post(path, data={"decision": "approve"})
            assert answer.status_code >= 400, (path, answer.status_code)
        after = client.get(f"/spend_requests/{spend_id}")
        assert after.json()["status"] == "pending_approval"
        delegated = client.post("/spend_requests/create_delegated", json=body)
        assert delegated.status_code == 403
    with wallet.session() as s:
        row = s.scalars(
            select(OAuthToken).where(
                OAuthToken.access_token_hash == hash_token(agent_token.access_token)
            )
        ).one()
        assert "spend_requests:approve" not in row.scope.split()
