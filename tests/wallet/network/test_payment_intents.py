"""Shared payment token redemption through `POST /v1/payment_intents` (Stripe's form
subset), over HTTP against a running wallet, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from network_helpers import Flow, Merchant
from sqlalchemy import update

from linkpay.wallet.store.models import Credential, SpendRequest

PATH = "/v1/payment_intents"


def redeem(
    flow: Flow,
    merchant: Merchant,
    token: str,
    *,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    form = {
        "amount": "2500",
        "currency": "usd",
        "shared_payment_granted_token": token,
        "confirm": "true",
        "payment_method_types[0]": "card",
        "metadata[order]": "A-1",
    }
    form.update({k: str(v) for k, v in fields.items()})
    form = {k: v for k, v in form.items() if v != "None"}
    with flow.wallet.http() as client:
        return client.post(
            PATH, data=form, headers=merchant.headers() if headers is None else headers
        )


def declined(answer: Any, code: str) -> dict[str, Any]:
    assert answer.status_code == 402, answer.text
    error = answer.json()["error"]
    assert error["type"] == "card_error" and error["code"] == "card_declined"
    assert error["decline_code"] == code, error
    assert error["payment_intent"]["status"] == "requires_payment_method"
    return dict(error)


def test_redeem_once(flow: Flow, shop: Merchant) -> None:
    spend_request_id, token = flow.approved_token(shop.network_id)
    answer = redeem(flow, shop, token, amount=2000)
    assert answer.status_code == 200, answer.text
    intent = answer.json()
    assert intent["id"].startswith("pi_") and intent["object"] == "payment_intent"
    assert intent["status"] == "succeeded" and intent["amount"] == 2000
    assert intent["currency"] == "usd" and intent["metadata"] == {"order": "A-1"}
    assert isinstance(intent["created"], int)
    request = flow.get(spend_request_id, include="shared_payment_token")
    assert request["status"] == "succeeded" and request.get("shared_payment_token") is None
    details = request["payment_status_details"]
    assert details["outcome"] == "success" and details["amount"] == 2000
    assert [t["amount"] for t in flow.transactions() if t["source_id"] == intent["id"]] == [2000]
    declined(redeem(flow, shop, token, amount=2000), "token_already_used")
    with flow.wallet.http() as client:
        fetched = client.get(f"{PATH}/{intent['id']}", headers=shop.headers())
    assert fetched.status_code == 200 and fetched.json()["status"] == "succeeded"


def test_idempotency_key_replays_the_same_intent(flow: Flow, shop: Merchant) -> None:
    _, token = flow.approved_token(shop.network_id)
    key = {"Idempotency-Key": f"mpp_challenge_{token}"}
    first = redeem(flow, shop, token, headers=shop.headers(**key))
    again = redeem(flow, shop, token, headers=shop.headers(**key))
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    changed = redeem(flow, shop, token, amount=10, headers=shop.headers(**key))
    assert changed.status_code == 400
    assert changed.json()["error"]["type"] == "idempotency_error"


def test_basic_auth_like_stripe_clients(flow: Flow, shop: Merchant) -> None:
    _, token = flow.approved_token(shop.network_id)
    basic = base64.b64encode(f"{shop.api_key}:".encode()).decode()
    answer = redeem(flow, shop, token, headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"amount": 2501}, "amount_too_large"),
        ({"currency": "eur"}, "currency_not_supported"),
        ("other_merchant", "merchant_mismatch"),
    ],
)
def test_refused_redemption_burns_the_token(
    flow: Flow, shop: Merchant, other_shop: Merchant, fields: Any, code: str
) -> None:
    spend_request_id, token = flow.approved_token(shop.network_id)
    merchant = other_shop if fields == "other_merchant" else shop
    declined(redeem(flow, merchant, token, **({} if fields == "other_merchant" else fields)), code)
    request = flow.get(spend_request_id, include="shared_payment_token")
    assert request["status"] == "failed" and request.get("shared_payment_token") is None
    details = request["payment_status_details"]
    assert details["outcome"] == "failure" and details["decline_code"] == code
    declined(redeem(flow, shop, token), "token_already_used")


def test_canceled_and_expired_tokens(flow: Flow, shop: Merchant) -> None:
    canceled_id, canceled = flow.approved_token(shop.network_id)
    with flow.http() as client:
        assert client.post(f"/spend_requests/{canceled_id}/cancel").status_code == 200
    declined(redeem(flow, shop, canceled), "revocation_of_authorization")
    expired_id, expired = flow.approved_token(shop.network_id)
    past = datetime.now(UTC) - timedelta(seconds=5)
    with flow.wallet.session() as s:
        s.execute(update(Credential).where(Credential.id == expired).values(valid_until=past))
        s.execute(
            update(SpendRequest)
            .where(SpendRequest.id == expired_id)
            .values(credential_valid_until=past)
        )
    declined(redeem(flow, shop, expired), "token_expired")
    assert flow.get(expired_id)["status"] == "expired"


@pytest.mark.parametrize(
    ("fields", "status", "code", "param"),
    [
        (
            {"shared_payment_granted_token": "spt_doesnotexist"},
            400,
            "resource_missing",
            "shared_payment_granted_token",
        ),
        ({"amount": None}, 400, "parameter_missing", "amount"),
        ({"amount": "12.5"}, 400, "parameter_invalid_integer", "amount"),
        ({"currency": "dollars"}, 400, "parameter_invalid", "currency"),
        ({"confirm": "false"}, 400, "parameter_invalid", "confirm"),
    ],
)
def test_malformed_calls(
    flow: Flow, shop: Merchant, fields: dict[str, Any], status: int, code: str, param: str
) -> None:
    spend_request_id, token = flow.approved_token(shop.network_id)
    answer = redeem(flow, shop, token, **fields)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert flow.get(spend_request_id)["status"] == "approved"  # nothing was spent


def test_authentication_and_encoding(flow: Flow, shop: Merchant) -> None:
    _, token = flow.approved_token(shop.network_id)
    assert (
        redeem(flow, shop, token, headers={"Authorization": "Bearer sk_test_x"}).status_code == 401
    )
    assert redeem(flow, shop, token, headers={}).status_code == 401
    with flow.wallet.http() as client:
        as_json = client.post(PATH, json={"amount": 1}, headers=shop.headers())
        unknown = client.get(f"{PATH}/pi_nope", headers=shop.headers())
    assert as_json.status_code == 400 and as_json.json()["error"]["type"] == "invalid_request_error"
    assert unknown.status_code == 404
