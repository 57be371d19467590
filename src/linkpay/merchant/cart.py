"""The demo shop's catalog and cart: prices always come from the server's catalog; a
form or query string only carries `qty_<sku>` quantities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MAX_QUANTITY = 20


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    description: str
    unit_amount: int  # minor units


DEMO_CATALOG: tuple[Product, ...] = (
    Product("coffee-beans", "Coffee beans, 340 g", "Single-origin, roasted this week.", 1800),
    Product("camp-mug", "Enamel camp mug", "Blue speckled, 350 ml.", 1200),
    Product("sticker-pack", "Sticker pack", "Five vinyl stickers.", 400),
)
DEFAULT_CART: Mapping[str, int] = {"coffee-beans": 1, "camp-mug": 1}


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def amount(self) -> int:
        return self.product.unit_amount * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    currency: str = "usd"

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def quantities(self) -> dict[str, int]:
        return {line.product.sku: line.quantity for line in self.lines}

    def line_items(self) -> list[dict[str, Any]]:
        """The cart as spend-request line items (wire.LineItem fields)."""
        return [
            {
                "name": line.product.name,
                "quantity": line.quantity,
                "unit_amount": line.product.unit_amount,
                "sku": line.product.sku,
            }
            for line in self.lines
        ]

    def totals(self) -> list[dict[str, Any]]:
        return [{"type": "total", "display_text": "Total", "amount": self.amount}]


def price_cart(
    quantities: Mapping[str, int],
    *,
    catalog: tuple[Product, ...] = DEMO_CATALOG,
    currency: str = "usd",
) -> Cart:
    """Build a cart from sku → quantity using catalog prices; unknown skus and
    non-positive quantities are dropped, quantities are capped."""
    lines = []
    for product in catalog:
        quantity = quantities.get(product.sku, 0)
        if quantity > 0:
            lines.append(CartLine(product, min(quantity, _MAX_QUANTITY)))
    return Cart(tuple(lines), currency)


def cart_from_params(params: Mapping[str, str], catalog: tuple[Product, ...]) -> dict[str, int]:
    """Read `qty_<sku>` fields (query string or form) into sku → quantity."""
    quantities: dict[str, int] = {}
    for product in catalog:
        raw = params.get(f"qty_{product.sku}")
        if raw is None:
            continue
        try:
            quantities[product.sku] = max(0, min(int(str(raw).strip() or 0), _MAX_QUANTITY))
        except ValueError:
            continue
    return quantities
