"""RFC 8628 device login over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from linkpay.wallet.auth.device import DEVICE_CODE_GRANT_TYPE, hash_device_code
from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.store.models import DeviceGrant, OAuthToken, utcnow


def start(wallet: Any, **form: str) -> dict[str, Any]:
    data = {"client_id": "link-cli", "connection_label": "Claude Code on laptop", **form}
    with wallet.http() as client:
        answer = client.post("/device/code", data=data)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"].startswith("no-store")
    return answer.json()


def poll(wallet: Any, device_code: str, client_id: str = "link-cli") -> Any:
    with wallet.http() as client:
        return client.post(
            "/device/token",
            data={
                "grant_type": DEVICE_CODE_GRANT_TYPE,
                "device_code": device_code,
                "client_id": client_id,
            },
        )


def set_grant(wallet: Any, device_code: str, **values: Any) -> None:
    with wallet.session() as s:
        s.execute(
            update(DeviceGrant)
            .where(DeviceGrant.device_code_hash == hash_device_code(device_code))
            .values(**values)
        )


def test_code_response_shape(wallet: Any) -> None:
    code = start(wallet)
    words = code["user_code"].split("-")
    assert len(words) == 3 and all(w.isalpha() for w in words)
    assert code["verification_uri"] == f"{wallet.base_url}/device"
    assert code["verification_uri_complete"].endswith(f"?code={code['user_code']}")
    assert code["expires_in"] == 600 and code["interval"] == 5
    # stored hashed only
    with wallet.session() as s:
        grant = s.scalars(
            select(DeviceGrant).where(
                DeviceGrant.device_code_hash == hash_device_code(code["device_code"])
            )
        ).one()
        assert code["user_code"] not in grant.user_code_hash
        assert grant.connection_label == "Claude Code on laptop"
        assert grant.scope == "userinfo:read payment_methods.agentic"


def test_pending_then_approved_then_tokens(wallet: Any, person: str) -> None:
    code = start(wallet)
    pending = poll(wallet, code["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    # The person types the phrase loosely: case, spaces instead of hyphens.
    loose = " " + code["user_code"].replace("-", "  ").upper() + " "
    wallet.approve_device(loose, person)
    answer = poll(wallet, code["device_code"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("lk_at_")
    assert body["refresh_token"].startswith("lk_rt_")
    assert body["expires_in"] == 3600
    assert body["scope"] == "userinfo:read payment_methods.agentic"
    assert answer.headers["cache-control"].startswith("no-store")
    with wallet.http(body["access_token"]) as client:
        me = client.get("/userinfo")
    assert me.status_code == 200
    # tokens are stored hashed only
    with wallet.session() as s:
        row = s.scalars(select(OAuthToken).where(OAuthToken.user_id == person)).one()
        assert body["access_token"] not in (row.access_token_hash, row.refresh_token_hash)
        assert row.connection_label == "Claude Code on laptop"
    # the device code is single use
    again = poll(wallet, code["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_denied(wallet: Any, person: str) -> None:
    code = start(wallet)
    wallet.deny_device(code["user_code"], person)
    answer = poll(wallet, code["device_code"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "access_denied"
    # a decided phrase can't be decided again
    with pytest.raises(WalletError) as caught:
        wallet.approve_device(code["user_code"], person)
    assert http_status(caught.value) == 400 and caught.value.param == "user_code"


def test_expired(wallet: Any, person: str) -> None:
    code = start(wallet)
    set_grant(wallet, code["device_code"], expires_at=utcnow() - timedelta(seconds=1))
    answer = poll(wallet, code["device_code"])
    assert answer.status_code == 400 and answer.json()["error"] == "expired_token"
    with pytest.raises(WalletError):
        wallet.approve_device(code["user_code"], person)


def test_slow_down_adds_five_seconds_and_is_remembered(wallet: Any) -> None:
    code = start(wallet)
    assert poll(wallet, code["device_code"]).json()["error"] == "authorization_pending"
    fast = poll(wallet, code["device_code"])
    assert fast.status_code == 400 and fast.json()["error"] == "slow_down"
    # 7 s later: fine for the old interval (5) but not for the new one (10)
    set_grant(wallet, code["device_code"], last_polled_at=utcnow() - timedelta(seconds=7))
    assert poll(wallet, code["device_code"]).json()["error"] == "slow_down"
    # the interval grew again to 15; wait it out
    set_grant(wallet, code["device_code"], last_polled_at=utcnow() - timedelta(seconds=16))
    assert poll(wallet, code["device_code"]).json()["error"] == "authorization_pending"
    with wallet.session() as s:
        interval = s.scalars(
            select(DeviceGrant.interval).where(
                DeviceGrant.device_code_hash == hash_device_code(code["device_code"])
            )
        ).one()
    assert interval == 15


def test_unknown_device_code_and_wrong_client(wallet: Any) -> None:
    assert poll(wallet, "nope").json()["error"] == "invalid_grant"
    code = start(wallet)
    assert poll(wallet, code["device_code"], client_id="other").json()["error"] == "invalid_grant"


def test_bad_requests_answer_oauth_errors(wallet: Any) -> None:
    with wallet.http() as client:
        no_grant = client.post("/device/token", data={"client_id": "x"})
        assert no_grant.status_code == 400
        assert no_grant.json()["error"] == "invalid_request"
        assert "grant_type" in no_grant.json()["error_description"]
        unsupported = client.post(
            "/device/token", data={"client_id": "x", "grant_type": "password"}
        )
        assert unsupported.json()["error"] == "unsupported_grant_type"
        bad_scope = client.post("/device/code", data={"client_id": "x", "scope": "admin"})
        assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"


def test_requested_scope_and_authorization_details(wallet: Any, person: str) -> None:
    code = start(
        wallet,
        scope="userinfo:read spend_requests:approve",
        **{
            "authorization_details[0][type]": "spend",
            "authorization_details[0][limit][amount]": "5000",
        },
    )
    wallet.approve_device(code["user_code"], person)
    body = poll(wallet, code["device_code"]).json()
    assert body["scope"] == "userinfo:read spend_requests:approve"
    assert body["authorization_details"] == [{"type": "spend", "limit": {"amount": "5000"}}]


def test_lookup_pending_grant_for_the_person_page(wallet: Any, person: str) -> None:
    from linkpay.wallet.auth.device import lookup_pending_grant

    code = start(wallet, client_hint="Claude Code")
    with wallet.session() as s:
        grant = lookup_pending_grant(s, code["user_code"].upper())
        assert grant is not None
        assert grant.connection_label == "Claude Code on laptop"
        assert grant.client_hint == "Claude Code"
        assert lookup_pending_grant(s, "not a phrase") is None


def test_wrong_phrase_guesses_are_rate_limited(wallet: Any, person: str) -> None:
    code = start(wallet)
    for _ in range(10):
        with pytest.raises(WalletError) as caught:
            wallet.approve_device("wrong wrong wrong", person)
        assert http_status(caught.value) == 400
    with pytest.raises(WalletError) as caught:
        wallet.approve_device(code["user_code"], person)  # even the right one, for now
    assert http_status(caught.value) == 429
    assert caught.value.retry_after == 60


def test_concurrent_polls_of_an_approved_grant_have_one_winner(wallet: Any, person: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    code = start(wallet)
    wallet.approve_device(code["user_code"], person)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: poll(wallet, code["device_code"]), range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 7
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}
    with wallet.session() as s:
        assert len(s.scalars(select(OAuthToken).where(OAuthToken.user_id == person)).all()) == 1


def test_wallet_factory_applies_settings(wallet_factory: Any, wallet: Any) -> None:
    other = wallet_factory(device_code_ttl_seconds=42, device_poll_interval=2)
    assert other.base_url != wallet.base_url
    code = start(other)
    assert (code["expires_in"], code["interval"]) == (42, 2)


def test_factory_wallets_share_keys_with_wallet(
    wallet_factory: Any, wallet: Any, person: str
) -> None:
    other = wallet_factory(access_token_ttl_seconds=77)
    assert other.settings.pepper == wallet.settings.pepper
    assert other.settings.card_key == wallet.settings.card_key
    code = start(other)
    wallet.approve_device(code["user_code"], person)  # phrase hashed by `other`
    answer = poll(other, code["device_code"])
    assert answer.status_code == 200 and answer.json()["expires_in"] == 77


def test_repeated_bracket_authorization_details(wallet: Any, person: str) -> None:
    from urllib.parse import urlencode

    form = urlencode(
        [
            ("client_id", "link-cli"),
            ("authorization_details[][type]", "spend"),
            ("authorization_details[][limit][amount]", "5000"),
            ("authorization_details[][type]", "read"),
        ]
    )
    with wallet.http() as client:
        code = client.post(
            "/device/code",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).json()
    wallet.approve_device(code["user_code"], person)
    body = poll(wallet, code["device_code"]).json()
    assert body["authorization_details"] == [
        {"type": "spend", "limit": {"amount": "5000"}},
        {"type": "read"},
    ]
