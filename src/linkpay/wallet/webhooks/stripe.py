"""`POST /webhooks/stripe`: Stripe Issuing and shared payment token events.

The signature (`Stripe-Signature`) is checked with the official SDK
(`stripe.Webhook.construct_event`, 5-minute tolerance) against the connected account's
webhook secret. `issuing_authorization.request` is answered at once, in the response
(200, `Stripe-Version` header, `{"approved": true|false}`), by the one decision function;
`issuing_transaction.created` (captures, refunds), reversed or expired authorizations and
`shared_payment.issued_token.*` events move the spend request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from linkpay.wallet.decide import AuthorizationAsk, authorize
from linkpay.wallet.decide.settle import Reported, apply
from linkpay.wallet.deps import SessionmakerDep, SettingsDep
from linkpay.wallet.issuing.connections import active_connection, connection_secrets
from linkpay.wallet.store.db import read_transaction, transaction

router = APIRouter(include_in_schema=False)
log = logging.getLogger("linkpay.wallet.webhooks")
PROVIDER = "stripe"
_TOKEN_EVENTS = {
    "used": "capture",
    "consumed": "capture",
    "expired": "expired",
    "revoked": "revoked",
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@router.post("/webhooks/stripe")
async def stripe_webhook(
    request: Request, factory: SessionmakerDep, settings: SettingsDep
) -> JSONResponse:
    payload = await request.body()
    signature = request.headers.get("stripe-signature", "")
    return await run_in_threadpool(handle, factory, settings, payload, signature)


def handle(factory: Any, settings: Any, payload: bytes, signature: str) -> JSONResponse:
    # Function-local: the stripe SDK is the optional `live` extra; without it the wallet
    # (and the demo) must still start.
    from linkpay.wallet.issuing import stripe as stripe_issuer

    with read_transaction(factory) as db:
        connection = active_connection(db)
        secret = (
            connection_secrets(settings, connection).get("webhook_secret")
            if connection is not None and connection.provider == PROVIDER
            else None
        )
        livemode = bool(connection.livemode) if connection is not None else False
    if not secret:
        return _error(400, "not_connected", "Stripe is not connected with a webhook secret")
    try:
        stripe_issuer.verify_event(payload, signature, secret)
        event = json.loads(payload)
    except (stripe_issuer.SignatureError, ValueError):
        return _error(400, "invalid_signature", "Stripe-Signature did not verify")
    if bool(event.get("livemode")) != livemode:
        return _error(400, "livemode_mismatch", "Event mode differs from the connected key")
    kind, obj = str(event.get("type", "")), event.get("data", {}).get("object", {})
    with transaction(factory) as db:
        if kind == "issuing_authorization.request":
            return _authorization_request(db, obj, livemode, stripe_issuer.API_VERSION)
        report = _report(kind, obj, str(event.get("id", "")))
        outcome = apply(db, report) if report is not None else "ignored"
    log.info("stripe %s %s: %s", kind, event.get("id"), outcome)
    return JSONResponse({"received": True})


def _authorization_request(db: Any, obj: dict[str, Any], livemode: bool, version: str) -> Any:
    pending = obj.get("pending_request") or {}
    merchant = obj.get("merchant_data") or {}
    card = obj.get("card") or {}
    ask = AuthorizationAsk(
        issuer=PROVIDER,
        card_ref=str(card.get("id") if isinstance(card, dict) else card),
        amount=int(pending.get("amount") or 0),
        currency=str(pending.get("currency") or obj.get("currency") or ""),
        merchant_name=merchant.get("name"),
        merchant_url=merchant.get("url"),
        authorization_ref=obj.get("id"),
        livemode=livemode,
    )
    decision = authorize(db, ask)
    return JSONResponse(
        {"approved": decision.approved, "metadata": {"reason": decision.reason}},
        headers={"Stripe-Version": version},
    )


def _card_id(value: Any) -> str:
    return str(value.get("id") if isinstance(value, dict) else value)


def _report(kind: str, obj: dict[str, Any], event_id: str) -> Reported | None:
    merchant = (obj.get("merchant_data") or {}).get("name")
    if kind == "issuing_transaction.created" and obj.get("type") in ("capture", "refund"):
        return Reported(
            PROVIDER,
            str(obj["id"]),
            _card_id(obj.get("card")),
            str(obj["type"]),
            abs(int(obj.get("amount") or 0)),
            str(obj.get("currency") or ""),
            merchant,
        )
    if kind in ("issuing_authorization.created", "issuing_authorization.updated"):
        if obj.get("status") in ("reversed", "expired") and obj.get("approved"):
            return Reported(
                PROVIDER,
                f"{obj['id']}:{obj['status']}",
                _card_id(obj.get("card")),
                "reversal",
                int(obj.get("amount") or 0),
                str(obj.get("currency") or ""),
                merchant,
            )
        return None
    if kind.startswith("shared_payment.issued_token."):
        action = _TOKEN_EVENTS.get(kind.rsplit(".", 1)[1])
        if action is None:
            return None
        limits = obj.get("usage_limits") or {}
        return Reported(
            PROVIDER,
            event_id,
            str(obj.get("id")),
            action,
            int(limits.get("max_amount") or 0),
            str(limits.get("currency") or ""),
        )
    return None
