"""The approval app's issuer pages over real HTTP: the settings page connects and
disconnects (keys never shown back), lists decisions with reasons; the Stripe card page
carries the widened CSP only there, and its return URL records the confirmed card."""

from __future__ import annotations

import pytest
from issuers_helpers import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, Live, csrf_from, signed_in

ORIGIN = "Origin"


@pytest.mark.parametrize("live", ["stripe"], indirect=True)
def test_settings_page_connects_shows_decisions_and_disconnects(live: Live) -> None:
    _, card = live.approved_card()
    assert not live.authorize(card, 999_999)[0]  # one declined decision to show
    web = signed_in(live.wallet, live.person)
    try:
        page = web.get("/settings/issuer")
        assert page.status_code == 200
        assert "Stripe" in page.text and "test mode" in page.text
        assert STRIPE_KEY not in page.text and STRIPE_WEBHOOK_SECRET not in page.text
        assert "Declined" in page.text and "above what the person approved" in page.text
        bad = web.post(
            "/settings/issuer",
            data={"provider": "stripe", "api_key": "pk_nope", "csrf_token": csrf_from(page.text)},
            headers={ORIGIN: live.wallet.base_url},
        )
        assert bad.status_code == 400 and "sk_" in bad.text
        done = web.post(
            "/settings/issuer",
            data={
                "provider": "stripe",
                "api_key": STRIPE_KEY,
                "webhook_secret": STRIPE_WEBHOOK_SECRET,
                "publishable_key": "pk_test_fakepublishable",
                "csrf_token": csrf_from(page.text),
            },
            headers={ORIGIN: live.wallet.base_url},
        )
        assert done.status_code == 303
        card_page = web.get("/payment-methods/stripe")
        assert card_page.status_code == 200
        csp = card_page.headers["content-security-policy"]
        assert "https://js.stripe.com" in csp and "https://api.stripe.com" in csp
        assert "js.stripe.com" not in web.get("/settings/issuer").headers["content-security-policy"]
        intent_id = card_page.text.split('data-client-secret="', 1)[1].split("_secret_", 1)[0]
        live.fake.confirm_setup_intent(intent_id, last4="5556")
        back = web.get(f"/payment-methods/stripe/return?setup_intent={intent_id}")
        assert back.status_code == 303
        methods = web.get("/payment-methods").text
        assert "5556" in methods and "Saved with Stripe" in methods
        gone = web.post(
            "/settings/issuer/disconnect",
            data={"csrf_token": csrf_from(page.text)},
            headers={ORIGIN: live.wallet.base_url},
        )
        assert gone.status_code == 303
        assert "Test issuer" in web.get("/settings/issuer").text
    finally:
        web.close()
