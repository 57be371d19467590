"""Interop with pympp 0.16.0, against the real wallet: our `mpp
pay` pays a pympp merchant whose stripe method settles through our `WalletProcessor`,
and pympp's own client pays our `PaymentGate` merchant."""

from __future__ import annotations

import json
from typing import Any

import anyio
from mpp_helpers import CONTEXT, agent_get, approved_spt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from linkpay.mpp import wire
from linkpay.mpp.processor import WalletProcessor
from linkpay.serving import serve_in_thread


def pympp_merchant(wallet_url: str, api_key: str, network_id: str):
    from mpp.methods.stripe import server as stripe
    from mpp.server import Mpp
    from mpp.server import Request as MppRequest

    engine = Mpp(
        methods=stripe.charge(
            network_id=network_id, client=WalletProcessor(wallet_url, api_key), currency="usd"
        ),
        realm="pympp-interop.local",
        secret_key="pympp-interop-secret-" + "y" * 32,
    )
    handler = engine.charge(amount="1.00")

    async def paid(request: Request) -> Response:
        result = await handler(
            MppRequest(
                request.method,
                str(request.url),
                list(request.headers.items()),
                await request.body(),
            )
        )
        if result.status != 200:
            answer = result.challenge
            return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))
        return result.with_receipt(JSONResponse({"paid": True, "by": "pympp"}))

    return Starlette(routes=[Route("/paid", paid)])


def test_our_mpp_pay_pays_a_pympp_merchant(wallet, person, agent_token, cli):
    _, api_key, network_id = wallet.create_merchant("pympp interop merchant")
    with serve_in_thread(
        lambda base: pympp_merchant(wallet.base_url, api_key, network_id)
    ) as served:
        url = f"{served.base_url}/paid"
        code, created = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
        assert code == 0, created
        assert created["challenge"]["realm"] == "pympp-interop.local"
        sid = created["spend_request"]["id"]
        wallet.approve(sid, person)
        code, paid = cli("mpp", "pay", url, "--spend-request-id", sid)
    assert code == 0, paid
    assert paid["status"] == 200 and json.loads(paid["body"]) == {"paid": True, "by": "pympp"}
    assert paid["receipt"]["reference"].startswith("pi_")
    assert agent_get(wallet, agent_token, sid)["status"] == "succeeded"


def test_pympp_client_pays_our_merchant(wallet, person, agent_token, merchant):
    from mpp.client import Mpp
    from mpp.methods.stripe import client as stripe

    sid, spt = approved_spt(wallet, person, agent_token, merchant.network_id)

    async def create_token(params: Any) -> str:
        return spt

    async def go():
        async with Mpp(
            methods=[stripe.charge(create_token=create_token, payment_method="pm_interop")],
            max_payment_retries=1,
        ) as client:
            return await client.fetch(f"{merchant.base_url}/api/fortune")

    response = anyio.run(go)
    assert response.status_code == 200, response.text
    receipt = wire.receipt_to_dict(wire.parse_receipt(response.headers["payment-receipt"]))
    assert receipt["reference"] == response.json()["paid"]["reference"]
    assert agent_get(wallet, agent_token, sid)["status"] == "succeeded"
