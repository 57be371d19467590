"""Card charges on the test network: the success path and every decline, over HTTP
against a running wallet, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from network_helpers import Flow, Merchant, charge_body, wrong_cvc
from sqlalchemy import update

from linkpay.cards import luhn_check_digit
from linkpay.wallet.store.models import Charge, Credential, SpendRequest

PATH = "/v1/test_network/card_charges"


def charge(flow: Flow, merchant: Merchant, body: dict[str, Any], **headers: str) -> Any:
    with flow.wallet.http() as client:
        return client.post(PATH, json=body, headers=merchant.headers(**headers))


def declined(answer: Any, code: str) -> dict[str, Any]:
    assert answer.status_code == 402, answer.text
    error = answer.json()["error"]
    assert error["type"] == "card_error" and error["code"] == "card_declined"
    assert error["decline_code"] == code, error
    assert error["charge"]["status"] == "failed" and error["charge"]["id"].startswith("ch_")
    return dict(error)


def test_charge_succeeds_once_and_settles_the_request(flow: Flow, shop: Merchant) -> None:
    spend_request_id, card = flow.approved_card()
    answer = charge(flow, shop, charge_body(card, amount=2400))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "succeeded" and result["amount"] == 2400
    assert result["spend_request_id"] == spend_request_id
    assert result["card_last4"] == card["number"][-4:]
    request = flow.get(spend_request_id, include="card")
    assert request["status"] == "succeeded" and request.get("card") is None
    details = request["payment_status_details"]
    assert details["outcome"] == "success" and details["amount"] == 2400
    assert details["currency"] == "usd" and details["created"]
    listed = [t for t in flow.transactions() if t["source_id"] == result["id"]]
    assert len(listed) == 1 and listed[0]["amount"] == 2400
    declined(charge(flow, shop, charge_body(card, amount=2400)), "card_already_used")
    with flow.wallet.session() as s:
        credential = s.query(Credential).filter_by(spend_request_id=spend_request_id).one()
        assert credential.status == "used" and credential.secret_ciphertext is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"currency": "eur"}, "currency_not_supported"),
        ({"amount": 2501}, "insufficient_funds"),
        ({"exp_year": 2020, "exp_month": 1}, "expired_card"),
        ("wrong_year", "invalid_expiry_year"),
        ("wrong_month", "invalid_expiry_month"),
        ("wrong_cvc", "incorrect_cvc"),
    ],
)
def test_attempt_declines_leave_the_card_usable(
    flow: Flow, shop: Merchant, change: Any, code: str
) -> None:
    spend_request_id, card = flow.approved_card()
    if change == "wrong_year":
        change = {"exp_year": card["exp_year"] + 1}
    elif change == "wrong_month":
        change = {"exp_month": card["exp_month"] % 12 + 1}
    elif change == "wrong_cvc":
        change = {"cvc": wrong_cvc(card["cvc"])}
    error = declined(charge(flow, shop, charge_body(card, **change)), code)
    assert card["number"] not in str(error) and error["message"]
    assert flow.get(spend_request_id)["status"] == "approved"
    assert charge(flow, shop, charge_body(card)).status_code == 200


def test_unknown_and_invalid_numbers(flow: Flow, shop: Merchant) -> None:
    _, card = flow.approved_card()
    bad_luhn = card["number"][:-1] + str((int(card["number"][-1]) + 1) % 10)
    declined(charge(flow, shop, charge_body(card, number=bad_luhn)), "invalid_number")
    payload = card["number"][:10] + str((int(card["number"][10]) + 5) % 10) + card["number"][11:15]
    unknown = payload + luhn_check_digit(payload)  # Luhn-valid, differs from the card
    declined(charge(flow, shop, charge_body(card, number=unknown)), "invalid_account")


def test_merchant_mismatch(flow: Flow, shop: Merchant, other_shop: Merchant, wallet: Any) -> None:
    spend_request_id, card = flow.approved_card()
    declined(charge(flow, other_shop, charge_body(card)), "merchant_mismatch")
    no_url = Merchant(*wallet.create_merchant("No URL Shop"))
    declined(charge(flow, no_url, charge_body(card)), "merchant_mismatch")
    assert flow.get(spend_request_id)["status"] == "approved"
    # A subdomain of the merchant's registered host is the same merchant.
    sub_id, sub_card = flow.approved_card(merchant_url="https://checkout.shop.example/pay")
    assert charge(flow, shop, charge_body(sub_card)).status_code == 200
    assert flow.get(sub_id)["status"] == "succeeded"


def test_three_verification_misses_burn_the_card(flow: Flow, shop: Merchant) -> None:
    spend_request_id, card = flow.approved_card()
    bad = charge_body(card, cvc=wrong_cvc(card["cvc"]))
    for _ in range(2):
        declined(charge(flow, shop, bad), "incorrect_cvc")
        assert flow.get(spend_request_id)["status"] == "approved"
    declined(
        charge(flow, shop, charge_body(card, exp_year=card["exp_year"] + 2)), "invalid_expiry_year"
    )
    request = flow.get(spend_request_id, include="card")
    assert request["status"] == "failed" and request.get("card") is None
    details = request["payment_status_details"]
    assert details["outcome"] == "failure" and details["decline_code"] == "invalid_expiry_year"
    assert details["code"] == "card_declined"
    declined(charge(flow, shop, charge_body(card)), "revocation_of_authorization")


def test_canceled_request_voids_the_card(flow: Flow, shop: Merchant) -> None:
    spend_request_id, card = flow.approved_card()
    with flow.http() as client:
        assert client.post(f"/spend_requests/{spend_request_id}/cancel").status_code == 200
    declined(charge(flow, shop, charge_body(card)), "revocation_of_authorization")
    assert flow.get(spend_request_id)["status"] == "canceled"


def test_expired_credential(flow: Flow, shop: Merchant) -> None:
    spend_request_id, card = flow.approved_card()
    past = datetime.now(UTC) - timedelta(seconds=5)
    with flow.wallet.session() as s:
        s.execute(
            update(Credential)
            .where(Credential.spend_request_id == spend_request_id)
            .values(valid_until=past)
        )
        s.execute(
            update(SpendRequest)
            .where(SpendRequest.id == spend_request_id)
            .values(credential_valid_until=past)
        )
    declined(charge(flow, shop, charge_body(card)), "expired_card")
    assert flow.get(spend_request_id)["status"] == "expired"
    declined(charge(flow, shop, charge_body(card)), "expired_card")


def test_declines_are_recorded(flow: Flow, shop: Merchant) -> None:
    spend_request_id, card = flow.approved_card()
    error = declined(
        charge(flow, shop, charge_body(card, currency="gbp")), "currency_not_supported"
    )
    with flow.wallet.session() as s:
        row = s.get(Charge, error["charge"]["id"])
        assert row is not None and row.status == "failed"
        assert row.decline_code == "currency_not_supported" and row.currency == "gbp"
        assert row.spend_request_id == spend_request_id


def test_authentication_and_bad_input(flow: Flow, shop: Merchant) -> None:
    _, card = flow.approved_card()
    with flow.wallet.http() as client:
        missing = client.post(PATH, json=charge_body(card))
        wrong = client.post(
            PATH, json=charge_body(card), headers={"Authorization": "Bearer sk_test_nope"}
        )
        garbled = client.post(PATH, content=b"{not json", headers=shop.headers())
        short = client.post(PATH, json=charge_body(card, cvc="1"), headers=shop.headers())
    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "invalid_request_error"
    assert garbled.status_code == 400
    assert short.status_code == 400 and short.json()["error"]["param"] == "cvc"
    assert card["number"] not in short.text


def test_idempotency_key_replays(flow: Flow, shop: Merchant) -> None:
    _, card = flow.approved_card()
    first = charge(flow, shop, charge_body(card), **{"Idempotency-Key": "order-1"})
    again = charge(flow, shop, charge_body(card), **{"Idempotency-Key": "order-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = charge(flow, shop, charge_body(card, amount=1), **{"Idempotency-Key": "order-1"})
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"


def test_request_changed_after_approval_is_refused(flow: Flow, shop: Merchant) -> None:
    """The card is bound to what the person approved: if the stored purchase changes
    behind the API's back, the card no longer charges (nor reveals)."""
    spend_request_id, card = flow.approved_card()
    with flow.wallet.session() as s:
        s.execute(
            update(SpendRequest).where(SpendRequest.id == spend_request_id).values(amount=40000)
        )
    declined(charge(flow, shop, charge_body(card)), "revocation_of_authorization")
    assert flow.get(spend_request_id, include="card").get("card") is None


def test_network_is_off_outside_test_mode(tmp_path: Any) -> None:
    from starlette.testclient import TestClient

    from linkpay.wallet.app import create_app
    from linkpay.wallet.settings import Settings

    app = create_app(Settings.from_env(data_dir=tmp_path, test_mode=False))
    with TestClient(app) as client:
        for path in (PATH, "/v1/payment_intents"):
            answer = client.post(path, json={}, headers={"Authorization": "Bearer sk_test_x"})
            assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
