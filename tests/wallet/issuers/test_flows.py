"""Full flows on SQLite and PostgreSQL with either live issuer: the agent creates, the
person approves, the card exists at the issuer with the right controls, the agent
reveals it (fetched from the issuer, never stored), an authorization is approved, the
capture moves the request to `succeeded`. Plus the outage and `test: true` rules."""

from __future__ import annotations

import pytest
from issuers_helpers import (
    ADDRESS,
    Live,
    card_body,
    database_text,
    is_closed,
    issuer_card,
    spend_status,
)

from linkpay.wallet.errors import WalletError, http_status


def test_card_flow_end_to_end(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    request_id, card_ref = live.approved_card(2599)
    card = issuer_card(live, card_ref)
    if live.provider == "stripe":
        limits = {
            (x["interval"], x["amount"]) for x in card["spending_controls"]["spending_limits"]
        }
        assert limits == {("all_time", 2599), ("per_authorization", 2599)}
        assert card["currency"] == "usd" and card["type"] == "virtual"
        assert card["metadata"] == {"spend_request_id": request_id}
        assert card["cardholder"]["billing"]["address"]["line1"] == ADDRESS["line_1"]
    else:
        assert card["type"] == "SINGLE_USE" and card["spend_limit"] == 2599
        assert card["spend_limit_duration"] == "TRANSACTION" and request_id in card["memo"]
    plain = live.agent.get(f"/spend_requests/{request_id}").json()
    assert plain["status"] == "approved" and plain["livemode"] is False
    assert card["number"] not in str(plain)
    revealed = live.agent.get(f"/spend_requests/{request_id}?include=card").json()["card"]
    assert revealed["number"] == card["number"] and revealed["cvc"] == card["cvc"]
    dump = database_text(live.wallet)
    assert card["number"] not in dump and f'"{card["cvc"]}"' not in dump
    assert card["number"] not in caplog.text

    approved, _ = live.authorize(card_ref, 2599)
    assert approved
    live.capture(card_ref, 2599)
    assert spend_status(live.wallet, request_id) == "succeeded"
    assert is_closed(live, card_ref)  # captured once: canceled at the issuer
    done = live.agent.get(f"/spend_requests/{request_id}").json()
    assert done["payment_status_details"]["outcome"] == "success"
    txns = live.agent.get("/transactions").json()
    assert [t["amount"] for t in txns["data"]] == [2599], txns  # a fresh person


def test_issuer_outage_leaves_the_request_pending_with_a_reason(live: Live) -> None:
    response = live.agent.post("/spend_requests", json=card_body())
    request_id = response.json()["id"]
    live.fake.faults.fail_next(50, 500)
    try:
        with pytest.raises(WalletError) as failed:
            live.wallet.approve(request_id, live.person)
    finally:
        live.fake.faults.fail_next(0)
    assert http_status(failed.value) == 503 and failed.value.code == "issuer_unavailable"
    assert "did not answer" in failed.value.message and "HTTP 500" in failed.value.message
    assert spend_status(live.wallet, request_id) == "pending_approval"
    live.wallet.approve(request_id, live.person)  # the issuer is back: approval works
    assert spend_status(live.wallet, request_id) == "approved"
    assert live.card_ref(request_id)


def test_cancel_after_approval_closes_the_card_at_the_issuer(live: Live) -> None:
    request_id, card_ref = live.approved_card()
    assert not is_closed(live, card_ref)
    assert live.agent.post(f"/spend_requests/{request_id}/cancel").status_code == 200
    assert is_closed(live, card_ref)


def test_test_requests_always_use_the_test_issuer(live: Live) -> None:
    from linkpay.wallet.issuing.service import credential_for

    response = live.agent.post("/spend_requests", json=card_body(test=True))
    request_id = response.json()["id"]
    live.wallet.approve(request_id, live.person)
    with live.wallet.session() as session:
        credential = credential_for(session, request_id)
        assert credential is not None and credential.issuer == "test"


def test_stop_everything_closes_cards_at_the_issuer(live: Live) -> None:
    from linkpay.wallet.spend.service import pause_spending

    request_id, card_ref = live.approved_card()
    with live.wallet.session() as session:
        pause_spending(session, live.person)
    assert spend_status(live.wallet, request_id) == "canceled"
    assert is_closed(live, card_ref)


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_refund_is_recorded_once_and_the_purchase_stays_succeeded(live: Live) -> None:
    request_id, card_ref = live.approved_card(1500)
    assert live.authorize(card_ref, 1500)[0]
    capture = live.fake.capture(live.fake.last_authorization["id"], 1500)
    assert live.fake.send_event("issuing_transaction.created", capture).status_code == 200
    live.fake.capture(live.fake.last_authorization["id"], 500, kind="refund")
    assert spend_status(live.wallet, request_id) == "succeeded"
    amounts = sorted(t["amount"] for t in live.agent.get("/transactions").json()["data"])
    assert amounts == [-500, 1500]  # the repeated capture event counted once


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_livemode_follows_the_key(live: Live) -> None:
    from linkpay.wallet.issuing.connections import connect, status

    with live.wallet.session() as session:
        connect(
            session,
            live.wallet.settings,
            provider="stripe",
            check=False,
            api_key="sk_live_" + "9" * 24,
            webhook_secret="whsec_" + "9" * 20,
        )
        assert status(session, live.wallet.settings).livemode is True
    live_request = live.agent.post("/spend_requests", json=card_body()).json()
    test_request = live.agent.post("/spend_requests", json=card_body(test=True)).json()
    assert live_request["livemode"] is True and test_request["livemode"] is False
    with live.wallet.session() as session:
        connect(
            session,
            live.wallet.settings,
            provider="lithic",
            check=False,
            api_key="k" * 32,
            environment="sandbox",
            webhook_secret="whsec_" + "8" * 20,
        )
        assert status(session, live.wallet.settings).livemode is False
    sandbox = live.agent.post("/spend_requests", json=card_body()).json()
    assert sandbox["livemode"] is False
