"""Fixtures for the demo tests: the demo merchant (checkout page + MPP endpoint) served on
its own loopback port, registered on the `wallet` fixture's test network, and helpers to
get an approved virtual card the way an agent does."""

from collections.abc import Iterator
from typing import Any

import pytest

CARD_CONTEXT = (
    "Test purchase at the demo shop: buying the default cart (coffee beans and a camp mug) "
    "with a one-time virtual card, to check the checkout page end to end."
)


class Shop:
    def __init__(self, base_url: str, api_key: str, network_id: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.network_id = network_id

    @property
    def shop_url(self) -> str:
        return f"{self.base_url}/shop"


@pytest.fixture(scope="module")
def shop(wallet: Any) -> Iterator[Shop]:
    from linkpay.demo.servers import free_loopback_port
    from linkpay.merchant.app import create_merchant_app
    from linkpay.merchant.settings import MerchantSettings
    from linkpay.serving import serve_in_thread

    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    _, api_key, network_id = wallet.create_merchant("Linkpay Demo Shop", url=base_url)
    settings = MerchantSettings(
        wallet_url=wallet.base_url, api_key=api_key, network_id=network_id, public_url=base_url
    )
    app = create_merchant_app(settings)
    with serve_in_thread(lambda _base_url: app, port=port, lifespan="on"):
        yield Shop(base_url, api_key, network_id)


@pytest.fixture
def approved_card(wallet: Any, person: str, agent_token: Any, shop: Shop) -> dict[str, Any]:
    """Agent creates a card spend request for the default cart at the shop, the person
    approves, the agent retrieves it with include=card. Returns the spend request JSON."""
    from linkpay.merchant.checkout import DEFAULT_CART, price_cart

    cart = price_cart(DEFAULT_CART)
    with wallet.http(agent_token.access_token) as agent:
        created = agent.post(
            "/spend_requests",
            json={
                "amount": cart.amount,
                "currency": "usd",
                "merchant_name": "Linkpay Demo Shop",
                "merchant_url": shop.shop_url,
                "context": CARD_CONTEXT,
                "line_items": cart.line_items(),
                "totals": cart.totals(),
                "test": True,
                "request_approval": True,
            },
        )
        assert created.status_code == 200, created.text
        spend_request_id = created.json()["id"]
        wallet.approve(spend_request_id, person)
        retrieved = agent.get(f"/spend_requests/{spend_request_id}", params={"include": "card"})
        assert retrieved.status_code == 200, retrieved.text
    body = retrieved.json()
    assert body["status"] == "approved" and body["card"]["number"]
    body["_access_token"] = agent_token.access_token
    return body
