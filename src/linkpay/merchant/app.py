"""The demo merchant app: `create_merchant_app(settings)`.

Pluggable: each part of the shop is a router factory `(settings, gate) -> APIRouter`
listed in `ROUTER_FACTORIES`; the MPP endpoint (`fortune`) and the card checkout page
(`checkout`) are two of them. `/openapi.json` lists the paid operations with
`x-payment-info` (draft-payment-discovery).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI

from linkpay.fastapi_startup import add_routes, skip_pydantic_v1_probe
from linkpay.merchant.settings import MerchantSettings
from linkpay.mpp.processor import WalletProcessor
from linkpay.mpp.server import PaymentGate
from linkpay.mpp.stores import MemoryUsedChallengeStore, SqlUsedChallengeStore

RouterFactory = Callable[[MerchantSettings, PaymentGate], APIRouter]


def _fortune(settings: MerchantSettings, gate: PaymentGate) -> APIRouter:
    from linkpay.merchant.fortune import fortune_router

    return fortune_router(gate, amount=settings.fortune_price, currency=settings.currency)


def _checkout(settings: MerchantSettings, gate: PaymentGate) -> APIRouter:
    from linkpay.merchant.checkout import CheckoutConfig, checkout_router

    return checkout_router(
        CheckoutConfig(
            settings.wallet_url,
            settings.api_key.get_secret_value(),
            shop_name=settings.name,
            currency=settings.currency,
        )
    )


ROUTER_FACTORIES: tuple[RouterFactory, ...] = (_fortune, _checkout)


def build_gate(settings: MerchantSettings) -> PaymentGate:
    store = (
        SqlUsedChallengeStore(settings.database_url)
        if settings.database_url
        else MemoryUsedChallengeStore()
    )
    return PaymentGate(
        realm=settings.effective_realm,
        secret_key=settings.secret_key.get_secret_value(),
        network_id=settings.network_id,
        processor=WalletProcessor(settings.wallet_url, settings.api_key.get_secret_value()),
        store=store,
    )


def create_merchant_app(
    settings: MerchantSettings | None = None,
    *,
    routers: Sequence[RouterFactory] = ROUTER_FACTORIES,
) -> FastAPI:
    settings = settings or MerchantSettings.from_env()
    skip_pydantic_v1_probe()
    app = FastAPI(title=settings.name, version="1", docs_url=None, redoc_url=None)
    gate = build_gate(settings)
    app.state.settings = settings
    app.state.payment_gate = gate
    for factory in routers:
        add_routes(app, factory(settings, gate))  # include_router, analysed once

    def openapi() -> dict[str, object]:
        """FastAPI's schema plus `x-service-info` (draft-payment-discovery)."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema["x-service-info"] = {
                "categories": ["demo"],
                "docs": {"homepage": settings.public_url},
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    async def index() -> dict[str, object]:
        return {"name": settings.name, "paid_api": "/api/fortune", "shop": "/shop"}

    return app
