"""`PaymentMiddleware`: put prices on routes of any ASGI app, without touching its code.

    app = PaymentMiddleware(app, gate=gate, prices={"GET /api/report": Price(250)})

Priced requests are checked by the `PaymentGate` before the app sees them: unpaid or
badly paid ones get the gate's 402/400 problem response; paid ones reach the app (with
`scope["state"]["mpp_payment"]` set to the `Paid` result) and a 2xx answer carries
`Payment-Receipt` and `Cache-Control: private`. Other routes pass through untouched.
Use `gate.charge(...)` instead when you own the endpoint (FastAPI/Starlette).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from linkpay.mpp.server import Denied, PaymentGate, Price


class PaymentMiddleware:
    def __init__(self, app: Any, *, gate: PaymentGate, prices: Mapping[str, Price]) -> None:
        self.app = app
        self.gate = gate
        self.prices: dict[str, Price] = {}
        for route, price in prices.items():
            method, _, path = route.strip().partition(" ")
            self.prices[f"{method.upper()} {path.strip()}"] = price

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        price = None
        if scope["type"] == "http":
            price = self.prices.get(f"{scope['method']} {scope['path']}")
        if price is None:
            await self.app(scope, receive, send)
            return

        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        authorization = [
            value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name.lower() == b"authorization"
        ]
        outcome = await self.gate.authorize(
            http_method=scope["method"],
            path=scope["path"],
            authorization=authorization,
            body=body or None,
            price=price,
        )
        if isinstance(outcome, Denied):
            payload = json.dumps(outcome.body).encode()
            headers = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers
            ]
            headers.append((b"content-length", str(len(payload)).encode()))
            await send(
                {"type": "http.response.start", "status": outcome.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": payload})
            return

        scope.setdefault("state", {})["mpp_payment"] = outcome
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_receipt(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                headers.append((b"payment-receipt", outcome.receipt_header.encode("latin-1")))
                headers.append((b"cache-control", b"private"))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, replay, send_with_receipt)
