"""The demo checkout page on its own: cart pricing, form validation, escaping, and that
card numbers/CVCs never come back in a page. Charging is covered against the real
wallet in test_checkout_browser.py / test_checkout_charges.py."""

import re
import socket
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from linkpay.cards import luhn_valid
from linkpay.merchant.checkout import (
    CheckoutConfig,
    checkout_router,
    parse_card_form,
    parse_expiry,
    price_cart,
)

GOOD = {
    "qty_coffee-beans": "1",
    "number": "4242 4242 4242 4242",
    "expiry": "12 / 40",
    "cvc": "123",
    "name": "Jenny Rosen",
    "postcode": "94107",
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def shop() -> TestClient:
    config = CheckoutConfig(f"http://127.0.0.1:{_closed_port()}", "sk_test_unused")
    app = FastAPI()
    app.include_router(checkout_router(config))
    return TestClient(app)


def test_cart_prices_come_from_the_catalog_and_quantities_are_capped():
    cart = price_cart({"coffee-beans": 2, "camp-mug": 0, "unknown": 5, "sticker-pack": 99})
    assert cart.quantities == {"coffee-beans": 2, "sticker-pack": 20}
    assert cart.amount == 2 * 1800 + 20 * 400
    assert cart.totals() == [{"type": "total", "display_text": "Total", "amount": cart.amount}]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12/30", (12, 2030)),
        ("01 / 2031", (1, 2031)),
        ("0629", (6, 2029)),
        ("13/30", None),
        ("ab/cd", None),
        ("", None),
        ("1/3", None),
    ],
)
def test_expiry_formats(raw, expected):
    assert parse_expiry(raw) == expected


def test_luhn():
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")


def test_card_form_rejects_expired_card_and_keeps_secrets_out_of_repr():
    today = datetime(2026, 11, 1, tzinfo=UTC)
    entry, errors = parse_card_form({**GOOD, "expiry": "01/20"}, today=today)
    assert entry is None and errors == {"expiry": "This card has expired."}
    entry, errors = parse_card_form(GOOD)
    assert errors == {} and entry is not None
    assert entry.number == "4242424242424242" and entry.exp_year == 2040
    assert "4242424242424242" not in repr(entry) and "123" not in str(entry)


def test_shop_and_checkout_pages_show_the_cart_with_labelled_card_fields(shop):
    page = shop.get("/shop")
    assert page.status_code == 200 and "Coffee beans" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    checkout = shop.get("/shop/checkout", params={"qty_camp-mug": "2", "qty_coffee-beans": "0"})
    assert 'data-amount="2400"' in checkout.text and "$24.00 USD" in checkout.text
    for name in ("number", "expiry", "cvc", "name", "postcode"):
        assert re.search(rf'<label for="{name}">', checkout.text), name
        assert re.search(rf'<input id="{name}" name="{name}"', checkout.text), name


def test_invalid_form_names_each_field_and_never_echoes_the_card(shop):
    response = shop.post(
        "/shop/checkout",
        data={
            **GOOD,
            "number": "4000 0000 0000 0001",
            "cvc": "98",
            "name": "<b>x</b>",
            "postcode": "",
        },
    )
    assert response.status_code == 400
    errors = re.findall(r'class="error" id="(\w+)-error">([^<]*)<', response.text)
    assert dict(errors) == {
        "number": "This card number is not valid.",
        "cvc": "Enter the 3 or 4 digit security code.",
        "postcode": "Enter the billing postcode.",
    }
    assert "4000 0000 0000 0001" not in response.text and "4000000000000001" not in response.text
    assert "<b>x</b>" not in response.text and "&lt;b&gt;x&lt;/b&gt;" in response.text


def test_empty_cart_is_refused_before_any_charge(shop):
    response = shop.post("/shop/checkout", data={**GOOD, "qty_coffee-beans": "0"})
    assert response.status_code == 400 and "Your cart is empty." in response.text


def test_unreachable_card_network_is_a_clear_decline_not_a_500(shop, caplog):
    caplog.set_level("INFO")
    response = shop.post("/shop/checkout", data=GOOD)
    assert response.status_code == 402
    assert 'data-decline-code="processing_error"' in response.text
    assert "could not be reached" in response.text
    assert "4242424242424242" not in caplog.text and "4242 4242" not in caplog.text
    assert "4242424242424242" not in response.text


def test_unknown_order_is_404(shop):
    assert shop.get("/shop/orders/ord_nope").status_code == 404


def test_result_reader_reads_declines_and_ignores_pages_without_result(shop):
    from linkpay.merchant.checkout import read_order_result

    declined = read_order_result(shop.post("/shop/checkout", data=GOOD).text)
    assert declined is not None
    assert declined["outcome"] == "declined" and declined["decline_code"] == "processing_error"
    assert declined["message"].startswith("Payment declined. The payment network")
    assert read_order_result(shop.get("/shop").text) is None
