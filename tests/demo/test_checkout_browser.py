"""The demo checkout page in real Chromium: a virtual card from an approved spend request
pays the cart once; the same card is declined the second time, with a clear reason."""

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _pay(page: Any, shop_url: str, card: dict[str, Any]) -> None:
    page.goto(shop_url)
    page.get_by_role("button", name="Go to checkout").click()
    page.wait_for_url("**/shop/checkout?*")
    page.get_by_label("Card number").fill(card["number"])
    page.get_by_label("Expiry (MM / YY)").fill(
        f"{card['exp_month']:02d} / {card['exp_year'] % 100:02d}"
    )
    page.get_by_label("CVC").fill(card["cvc"])
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_label("Postcode").fill("94107")
    page.get_by_role("button", name="Pay $30.00").click()


def test_virtual_card_pays_once_then_is_declined(browser, wallet, shop, approved_card):
    card = approved_card["card"]
    page = browser.new_page()
    try:
        _pay(page, shop.shop_url, card)
        result = page.locator("#order-result")
        result.wait_for()
        assert result.get_attribute("data-outcome") == "succeeded"
        text = result.inner_text()
        assert "your order is confirmed" in text
        assert f"paid $30.00 USD with the card ending {card['number'][-4:]}" in text
        assert "/shop/orders/ord_" in page.url
        assert card["number"] not in page.content()

        with wallet.http(approved_card["_access_token"]) as agent:
            after = agent.get(f"/spend_requests/{approved_card['id']}").json()
        assert after["status"] == "succeeded"
        assert after["payment_status_details"]["outcome"] == "success"

        _pay(page, shop.shop_url, card)
        declined = page.locator("#order-result")
        declined.wait_for()
        assert declined.get_attribute("data-outcome") == "declined"
        assert declined.get_attribute("data-decline-code") == "card_already_used"
        assert "This one-time card has already been used." in declined.inner_text()
        assert page.get_by_label("Card number").input_value() == ""  # never re-filled
    finally:
        page.close()
