"""The demo merchant's MPP endpoint: `GET /api/fortune` costs 100 cents over HTTP 402
(a `charge` challenge; `GET /api/fortune-session` asks the same with a `session` one).

An agent with an approved shared payment token pays it with `link-cli mpp pay`; the
answer is a small JSON fortune plus a `Payment-Receipt` whose reference is the wallet's
`pi_…` payment intent.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request

from linkpay.fastapi_startup import LazyAPIRoute
from linkpay.mpp.server import PaymentGate, Price

FORTUNES = (
    "A small, well-tested change beats a large, clever one.",
    "The token you spend once cannot be spent twice.",
    "Approval is a promise; keep it exactly.",
    "Read the challenge before you pay it.",
    "Good receipts make good neighbours.",
)


def _fortune_for(paid: Any) -> dict[str, object]:
    return {
        "fortune": secrets.choice(FORTUNES),
        "paid": {"amount": paid.amount, "currency": paid.currency, "reference": paid.reference},
    }


def fortune_router(gate: PaymentGate, *, amount: int = 100, currency: str = "usd") -> APIRouter:
    """Routes of the paid API, for `app.include_router(...)`."""
    router = APIRouter(prefix="/api", tags=["paid"], route_class=LazyAPIRoute)
    price = Price(amount=amount, currency=currency, description="One fortune")

    @router.get(
        "/fortune",
        summary="A fortune (costs 1.00 USD, paid with MPP)",
        openapi_extra=gate.openapi_extra(price),
    )
    @gate.charge(price)
    async def fortune(request: Request) -> dict[str, object]:
        return _fortune_for(request.state.mpp_payment)

    session_price = Price(
        amount=amount, currency=currency, description="One fortune (session)", intent="session"
    )

    @router.get(
        "/fortune-session",
        summary="The same fortune behind a Stripe `session`-intent challenge",
        openapi_extra=gate.openapi_extra(session_price),
    )
    @gate.charge(session_price)
    async def fortune_session(request: Request) -> dict[str, object]:
        return _fortune_for(request.state.mpp_payment)

    return router
