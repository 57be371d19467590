"""The official Stripe Python SDK, pointed at the wallet, settles an SPT and reads our
declines as Stripe errors: proof the `/v1/payment_intents` subset is Stripe-shaped
(form encoding, auth, idempotent replay header, error body). `stripe` is in the dev
extra: a missing SDK is a failure, not a skip."""

from __future__ import annotations

import pytest
import stripe
from network_helpers import Flow, Merchant


def _client(flow: Flow, merchant: Merchant) -> object:
    return stripe.StripeClient(
        merchant.api_key,
        base_addresses={"api": flow.wallet.base_url},
        max_network_retries=0,
    )


def test_stripe_sdk_creates_and_replays_a_payment_intent(flow: Flow, shop: Merchant) -> None:
    spend_request_id, token = flow.approved_token(shop.network_id)
    client = _client(flow, shop)
    params = {
        "amount": 1999,
        "currency": "usd",
        "confirm": True,
        "shared_payment_granted_token": token,
        "payment_method_types": ["card"],
        "metadata": {"order": "A-7", "source": "sdk"},
    }
    options = {"idempotency_key": f"mpp_chal_{token}"}
    intent = client.v1.payment_intents.create(params=params, options=options)  # type: ignore[attr-defined]
    assert intent.id.startswith("pi_") and intent.status == "succeeded"
    assert intent.amount == 1999 and intent.metadata["order"] == "A-7"
    again = client.v1.payment_intents.create(params=params, options=options)  # type: ignore[attr-defined]
    assert again.id == intent.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    fetched = client.v1.payment_intents.retrieve(intent.id)  # type: ignore[attr-defined]
    assert fetched.status == "succeeded"
    assert flow.get(spend_request_id)["status"] == "succeeded"


def test_stripe_sdk_sees_declines_as_card_errors(flow: Flow, shop: Merchant) -> None:
    _, token = flow.approved_token(shop.network_id)
    client = _client(flow, shop)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(  # type: ignore[attr-defined]
            params={
                "amount": 99999,
                "currency": "usd",
                "confirm": True,
                "shared_payment_granted_token": token,
            }
        )
    assert caught.value.http_status == 402 and caught.value.code == "card_declined"
    assert caught.value.error.decline_code == "amount_too_large"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(  # type: ignore[attr-defined]
            params={
                "amount": 100,
                "currency": "usd",
                "confirm": True,
                "shared_payment_granted_token": "spt_unknown",
            }
        )
    assert missing.value.param == "shared_payment_granted_token"
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            "sk_test_wrong", base_addresses={"api": flow.wallet.base_url}, max_network_retries=0
        ).v1.payment_intents.retrieve("pi_x")
