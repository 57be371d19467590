"""The demo merchant's checkout page: a small shop, a cart and a card form (card flow).

The page is what an agent holding a one-time virtual card meets on the web: it fills in
number, expiry, CVC, name and postcode and submits. The merchant then charges the card
through the wallet's test card network (`POST {wallet}/v1/test_network/card_charges`
with its `sk_test_…` key) and shows the order confirmation, or the
decline reason the network gave.

Choices the specs leave open, written down here:
- Everything lives under `/shop` so the merchant app's other routes (the MPP endpoint)
  keep the rest of the URL space: `GET /shop` (products), `GET /shop/checkout?qty_<sku>=N`
  (cart + card form), `POST /shop/checkout` (pay), `GET /shop/orders/{id}` (confirmation,
  reached by POST-redirect-GET so a reload never pays twice).
- Prices always come from the server's catalog; the form only carries quantities.
- The card number and CVC are never logged, never echoed back into a re-rendered form,
  and never kept: an order remembers only brand-free facts (last4, amounts, charge id).
- Templates autoescape; every page carries a strict CSP (no scripts at all).

The catalog and cart live in `merchant.cart`, the card form's validation in
`merchant.card_form` (both re-exported here); this module holds the charge call, the
pages and `read_order_result` (how the demo reads a result page).
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from linkpay.fastapi_startup import LazyAPIRoute
from linkpay.merchant.card_form import (  # re-exported for callers
    CardEntry,
    parse_card_form,
    parse_expiry,
)
from linkpay.merchant.cart import (
    DEFAULT_CART,
    DEMO_CATALOG,
    Cart,
    CartLine,
    Product,
    cart_from_params,
    price_cart,
)
from linkpay.money import format_money

logger = logging.getLogger("linkpay.merchant.checkout")

_HERE = Path(__file__).parent
_TEMPLATES = Environment(
    loader=FileSystemLoader(_HERE / "templates" / "checkout"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_CSS_PATH = _HERE / "static" / "checkout" / "checkout.css"
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_MAX_REMEMBERED_ORDERS = 1000


__all__ = [
    "DEFAULT_CART",
    "DEMO_CATALOG",
    "Cart",
    "CartLine",
    "CardEntry",
    "ChargeOutcome",
    "CheckoutConfig",
    "Product",
    "cart_from_params",
    "charge_card",
    "checkout_router",
    "parse_card_form",
    "parse_expiry",
    "price_cart",
    "read_order_result",
]


# --- charging through the wallet's test network -------------------------------------


@dataclass(frozen=True)
class CheckoutConfig:
    """Where the merchant's processor is and how to authenticate to it."""

    wallet_url: str
    api_key: str = field(repr=False)
    shop_name: str = "Linkpay Demo Shop"
    currency: str = "usd"
    catalog: tuple[Product, ...] = DEMO_CATALOG
    timeout_seconds: float = 15.0


@dataclass(frozen=True)
class ChargeOutcome:
    succeeded: bool
    charge_id: str | None = None
    decline_code: str | None = None
    message: str | None = None


_DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "The security code is incorrect.",
    "insufficient_funds": "The approved amount does not cover this order.",
}


async def charge_card(config: CheckoutConfig, card: CardEntry, cart: Cart) -> ChargeOutcome:
    """Ask the wallet's test network to charge the card for the cart total."""
    import httpx2

    from linkpay.mpp.exchange import tls_context

    body = {
        "number": card.number,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "cvc": card.cvc,
        "amount": cart.amount,
        "currency": cart.currency,
        "description": f"{config.shop_name} order",
    }
    url = config.wallet_url.rstrip("/") + "/v1/test_network/card_charges"
    try:
        # The process's TLS context (CA store loaded on the first handshake, if any).
        async with httpx2.AsyncClient(
            timeout=config.timeout_seconds, verify=tls_context()
        ) as client:
            response = await client.post(
                url, json=body, headers={"Authorization": f"Bearer {config.api_key}"}
            )
    except httpx2.HTTPError as exc:
        logger.warning("card network unreachable: %s", type(exc).__name__)
        return ChargeOutcome(
            False,
            decline_code="processing_error",
            message="The payment network could not be reached. Try again.",
        )
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if response.status_code == 200 and payload.get("status") == "succeeded":
        return ChargeOutcome(True, charge_id=str(payload.get("id") or ""))
    error = payload.get("error") if isinstance(payload.get("error"), dict) else None
    if response.status_code == 200:  # a charge object with status failed
        code = str(payload.get("decline_code") or "card_declined")
        message = str(payload.get("failure_message") or _DECLINE_MESSAGES["card_declined"])
        return ChargeOutcome(False, charge_id=payload.get("id"), decline_code=code, message=message)
    if response.status_code == 402 and error is not None:
        code = str(error.get("decline_code") or error.get("code") or "card_declined")
        message = str(error.get("message") or _DECLINE_MESSAGES.get(code, "Declined."))
        charge = error.get("charge") if isinstance(error.get("charge"), dict) else {}
        return ChargeOutcome(False, charge_id=charge.get("id"), decline_code=code, message=message)
    logger.warning(
        "card network answered %s (%s)",
        response.status_code,
        (error or {}).get("code", "no error code"),
    )
    return ChargeOutcome(
        False,
        decline_code="processing_error",
        message="The payment could not be processed. Try again later.",
    )


# --- pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    id: str
    cart: Cart
    charge_id: str
    card_last4: str
    name: str
    created: datetime


def _page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _TEMPLATES.get_template(template).render(money=format_money, **context)
    return HTMLResponse(html, status_code=status_code, headers=_SECURITY_HEADERS)


def checkout_router(config: CheckoutConfig) -> APIRouter:
    """The shop's routes, ready for `app.include_router(...)` in the merchant app."""
    router = APIRouter(prefix="/shop", include_in_schema=False, route_class=LazyAPIRoute)
    orders: OrderedDict[str, Order] = OrderedDict()

    def remember(order: Order) -> None:
        orders[order.id] = order
        while len(orders) > _MAX_REMEMBERED_ORDERS:
            orders.popitem(last=False)

    @router.get("", response_class=HTMLResponse)
    async def shop_page() -> HTMLResponse:
        return _page("shop.html", config=config, catalog=config.catalog, defaults=DEFAULT_CART)

    @router.get("/static/checkout.css")
    async def stylesheet() -> Response:
        return Response(
            _CSS_PATH.read_bytes(), media_type="text/css", headers={"Cache-Control": "max-age=300"}
        )

    @router.get("/checkout", response_class=HTMLResponse)
    async def checkout_page(request: Request) -> HTMLResponse:
        quantities = cart_from_params(request.query_params, config.catalog)
        cart = price_cart(
            quantities or DEFAULT_CART, catalog=config.catalog, currency=config.currency
        )
        return _page("checkout.html", config=config, cart=cart, errors={}, values={})

    @router.post("/checkout", response_class=HTMLResponse)
    async def pay(request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        cart = price_cart(
            cart_from_params(form, config.catalog), catalog=config.catalog, currency=config.currency
        )
        # Re-fill only what is safe to show again; never the number or the CVC.
        values = {key: form.get(key, "")[:100] for key in ("expiry", "name", "postcode")}
        if not cart.lines:
            return _page(
                "checkout.html",
                400,
                config=config,
                cart=cart,
                values=values,
                errors={"cart": "Your cart is empty."},
            )
        card, errors = parse_card_form(form)
        if card is None:
            return _page(
                "checkout.html", 400, config=config, cart=cart, values=values, errors=errors
            )
        outcome = await charge_card(config, card, cart)
        if not outcome.succeeded:
            logger.info("checkout declined: card ending %s, %s", card.last4, outcome.decline_code)
            return _page(
                "checkout.html",
                402,
                config=config,
                cart=cart,
                values=values,
                errors={},
                decline=outcome,
            )
        order = Order(
            "ord_" + secrets.token_hex(8),
            cart,
            outcome.charge_id or "",
            card.last4,
            card.name,
            datetime.now(UTC),
        )
        remember(order)
        logger.info(
            "order %s paid: card ending %s, charge %s", order.id, card.last4, order.charge_id
        )
        return RedirectResponse(
            f"/shop/orders/{order.id}", status_code=303, headers=_SECURITY_HEADERS
        )

    @router.get("/orders/{order_id}", response_class=HTMLResponse)
    async def order_page(order_id: str) -> HTMLResponse:
        order = orders.get(order_id)
        if order is None:
            return _page("not_found.html", 404, config=config)
        return _page("order.html", config=config, order=order)

    return router


# --- reading a result page (used by `link-cli demo` and tests) ----------------------


class _OrderResultParser(HTMLParser):
    """Collect the attributes and text of the element with id `order-result`."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: dict[str, str] = {}
        self.text: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth:
            self._depth += 1
        elif dict(attrs).get("id") == "order-result":
            self.attributes = {key: value or "" for key, value in attrs}
            self._depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.text.append(data)


def read_order_result(html: str) -> dict[str, str] | None:
    """`{outcome, message, order_id?, charge_id?, decline_code?}` from a checkout result
    page, or None when the page shows no result."""
    parser = _OrderResultParser()
    parser.feed(html)
    if not parser.attributes:
        return None
    attrs = parser.attributes
    result = {
        "outcome": attrs.get("data-outcome", ""),
        "message": " ".join("".join(parser.text).split()),
    }
    for attr, key in (
        ("data-order-id", "order_id"),
        ("data-charge-id", "charge_id"),
        ("data-decline-code", "decline_code"),
    ):
        if attrs.get(attr):
            result[key] = attrs[attr]
    return result
