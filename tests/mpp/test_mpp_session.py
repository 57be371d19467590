"""Stripe `session`-intent challenges, end to end with the real wallet: our merchant
side issues them (the demo merchant's `/api/fortune-session`, and `PaymentMiddleware`
on any ASGI app), and `link-cli mpp pay` pays them by opening the session with the
approved shared payment token (`payload: {action: "open", grantedToken}`)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from mpp_helpers import CONTEXT
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from linkpay.mpp import wire
from linkpay.mpp.middleware import PaymentMiddleware
from linkpay.mpp.processor import WalletProcessor
from linkpay.mpp.server import PaymentGate, Price
from linkpay.serving import serve_in_thread


def _pay_session(cli: Any, wallet: Any, person: str, url: str, network_id: str) -> dict[str, Any]:
    header = httpx2.get(url).headers["www-authenticate"]
    code, decoded = cli("mpp", "decode", "--challenge", header)
    assert code == 0 and decoded["intent"] == "session", decoded
    assert decoded["network_id"] == network_id

    code, created = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
    assert code == 0 and created["approval_required"] is True, created
    sid = created["spend_request"]["id"]
    assert created["challenge"]["intent"] == "session"
    wallet.approve(sid, person)
    code, paid = cli("mpp", "pay", url, "--spend-request-id", sid)
    assert code == 0 and paid["paid"] is True and paid["status"] == 200, paid
    assert paid["receipt"]["status"] == "success" and paid["receipt"]["reference"].startswith("pi_")
    code, after = cli("spend-request", "retrieve", sid)
    assert code == 0 and after["status"] == "succeeded", after
    return paid


def test_mpp_pay_opens_a_session_challenge_of_the_demo_merchant(
    wallet: Any, person: str, merchant: Any, cli: Any
) -> None:
    url = f"{merchant.base_url}/api/fortune-session"
    paid = _pay_session(cli, wallet, person, url, merchant.network_id)
    assert json.loads(paid["body"])["fortune"]


def test_payment_middleware_issues_and_verifies_session_challenges(
    wallet: Any, person: str, cli: Any
) -> None:
    _, api_key, network_id = wallet.create_merchant("Session API")
    processor = WalletProcessor(base_url=wallet.base_url, api_key=api_key)
    gate = PaymentGate(
        realm="session.test", secret_key="s" * 40, network_id=network_id, processor=processor
    )

    async def report(request: Any) -> JSONResponse:
        return JSONResponse(
            {"report": "ready", "paid": request.scope["state"]["mpp_payment"].amount}
        )

    inner = Starlette(routes=[Route("/api/report", report)])
    price = Price(250, "usd", "One report", intent="session")
    app = PaymentMiddleware(inner, gate=gate, prices={"GET /api/report": price})
    with serve_in_thread(lambda _url: app) as served:
        url = f"{served.base_url}/api/report"
        probe = httpx2.get(url)
        assert probe.status_code == 402
        parsed = wire.parse_challenges(probe.headers.get_list("www-authenticate"))
        challenge = parsed[0].challenge
        assert challenge is not None and challenge.intent == "session"

        # A charge-style payload does not open a session: refused, nothing settled.
        wrong = wire.Credential(
            challenge=challenge.to_echo(), payload={"spt": "spt_not_used"}
        ).to_authorization()
        refused = httpx2.get(url, headers={"Authorization": wrong})
        assert refused.status_code == 402
        assert refused.json()["type"].endswith("invalid-payload")

        paid = _pay_session(cli, wallet, person, url, network_id)
    assert json.loads(paid["body"]) == {"report": "ready", "paid": 250}
