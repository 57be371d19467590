"""Stripe shared payment tokens: the person saves a real card as a Stripe PaymentMethod
(SetupIntent; the fake plays Stripe.js), an SPT request's approval issues
`/v1/shared_payment/issued_tokens` with the right limits, and cancel revokes it."""

from __future__ import annotations

import pytest
from issuers_helpers import Live, card_body, spend_status

from linkpay.wallet.errors import WalletError


def _spt_body() -> dict[str, object]:
    body = card_body(credential_type="shared_payment_token", network_id="profile_acme123")
    body.pop("merchant_name"), body.pop("merchant_url")
    return body


def _save_card(live: Live) -> str:
    from linkpay.wallet.issuing import payment_methods

    with live.wallet.session() as session:
        started = payment_methods.start(session, live.wallet.settings, live.person)
    assert started["client_secret"].startswith(started["setup_intent"] + "_secret_")
    pm = live.fake.confirm_setup_intent(started["setup_intent"], last4="1881")
    with live.wallet.session() as session:
        row = payment_methods.finish(
            session, live.wallet.settings, live.person, started["setup_intent"]
        )
        assert row.last4 == "1881" and row.brand == "visa"
    return str(pm["id"])


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_spt_issued_with_the_right_limits_then_revoked_on_cancel(live: Live) -> None:
    pm_id = _save_card(live)
    request = live.agent.post("/spend_requests", json=_spt_body()).json()
    live.wallet.approve(request["id"], live.person)
    fetched = live.agent.get(f"/spend_requests/{request['id']}?include=shared_payment_token")
    token_id = fetched.json()["shared_payment_token"]["id"]
    token = live.fake.objects[token_id]
    assert token["payment_method"] == pm_id
    assert token["seller_details"] == {"network_business_profile": "profile_acme123"}
    valid_until = fetched.json()["shared_payment_token"]["valid_until"]
    assert token["usage_limits"]["currency"] == "usd"
    assert token["usage_limits"]["max_amount"] == request["amount"]
    assert token["usage_limits"]["expires_at"] > 0 and valid_until
    assert token["status"] == "active"
    assert live.agent.post(f"/spend_requests/{request['id']}/cancel").status_code == 200
    assert live.fake.objects[token_id]["status"] == "revoked"


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_spt_events_move_the_request(live: Live) -> None:
    _save_card(live)
    request = live.agent.post("/spend_requests", json=_spt_body()).json()
    live.wallet.approve(request["id"], live.person)
    with live.wallet.session() as session:
        from linkpay.wallet.issuing.service import credential_for

        credential = credential_for(session, request["id"])
        assert credential is not None
        token_id = str(credential.issuer_ref)
    token = live.fake.objects[token_id]
    assert live.fake.send_event("shared_payment.issued_token.used", token).status_code == 200
    assert spend_status(live.wallet, request["id"]) == "succeeded"


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_spt_without_a_saved_stripe_card_says_why(live: Live) -> None:
    request = live.agent.post("/spend_requests", json=_spt_body()).json()
    with pytest.raises(WalletError) as refused:
        live.wallet.approve(request["id"], live.person)
    assert refused.value.code == "issuer_rejected"
    assert "payment methods page" in refused.value.message
    assert spend_status(live.wallet, request["id"]) == "pending_approval"


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_reconcile_leaves_a_token_issued_a_moment_ago(live: Live) -> None:
    """A token at Stripe that our records don't hold yet (its approval's commit still in
    flight on another worker) is within the grace period by its `created`; past it, it is
    an orphan and revoked."""
    from linkpay.wallet.issuing.reconcile import reconcile

    pm_id = _save_card(live)
    token = live.fake.create_token(
        {
            "payment_method": pm_id,
            "seller_details": {"network_business_profile": "profile_acme123"},
            "usage_limits": {"currency": "usd", "max_amount": "500"},
        }
    )
    with live.wallet.session() as session:
        report = reconcile(session, live.wallet.settings)
    assert token["id"] not in [c["id"] for c in report.closed]
    assert live.fake.objects[token["id"]]["status"] == "active"
    with live.wallet.session() as session:
        report = reconcile(session, live.wallet.settings, grace_seconds=0)
    closed = [c for c in report.closed if c["id"] == token["id"]]
    assert len(closed) == 1 and closed[0]["why"].startswith("orphan")
    assert live.fake.objects[token["id"]]["status"] == "revoked"
