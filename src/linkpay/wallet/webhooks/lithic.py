"""`POST /webhooks/lithic`: Lithic's Auth Stream Access (ASA) and transaction events.

The Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
`webhook-signature`) is verified with the official SDK (`client.webhooks.unwrap`,
5-minute tolerance). An ASA request (`card_authorization.approval_request`) is answered
in the response with `{"result": "APPROVED" | <decline>, "token": …}` by the one
decision function; `card_transaction.updated` settles (`SETTLED`) or fails (`VOIDED`,
`EXPIRED`) the spend request.
"""

from __future__ import annotations

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
PROVIDER = "lithic"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Our reasons as ASA results (Lithic declines any result other than APPROVED).
ASA_RESULTS = {
    "unknown_card": "SUSPECTED_FRAUD",
    "merchant_mismatch": "UNAUTHORIZED_MERCHANT",
    "currency_mismatch": "UNAUTHORIZED_MERCHANT",
    "amount_over_approved": "INSUFFICIENT_FUNDS",
}
_SETTLEMENT = {"SETTLED": "capture", "VOIDED": "reversal", "EXPIRED": "reversal"}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@router.post("/webhooks/lithic")
async def lithic_webhook(
    request: Request, factory: SessionmakerDep, settings: SettingsDep
) -> JSONResponse:
    payload = await request.body()
    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    return await run_in_threadpool(handle, factory, settings, payload, headers)


def handle(factory: Any, settings: Any, payload: bytes, headers: dict[str, str]) -> JSONResponse:
    # Function-local: the lithic SDK is the optional `live` extra; without it the wallet
    # (and the demo) must still start.
    from linkpay.wallet.issuing import lithic as lithic_issuer

    with read_transaction(factory) as db:
        connection = active_connection(db)
        secret = (
            connection_secrets(settings, connection).get("webhook_secret")
            if connection is not None and connection.provider == PROVIDER
            else None
        )
        livemode = bool(connection.livemode) if connection is not None else False
    if not secret:
        return _error(400, "not_connected", "Lithic is not connected with a webhook secret")
    try:
        event = lithic_issuer.verify_event(payload, headers, secret)
    except Exception:  # the SDK raises standardwebhooks' or its own errors
        return _error(400, "invalid_signature", "The webhook signature did not verify")
    if not isinstance(event, dict):
        return _error(400, "invalid_payload", "Expected a JSON object")
    kind = str(event.get("event_type") or "")
    with transaction(factory) as db:
        if kind == "card_authorization.approval_request":
            return _asa(db, event, livemode)
        status = str(event.get("status") or "")
        outcome = "ignored"
        if kind == "card_transaction.updated" and status in _SETTLEMENT:
            report = Reported(
                PROVIDER,
                f"{event.get('token')}:{status}",
                str(event.get("card_token")),
                _SETTLEMENT[status],
                int(event.get("settled_amount") or event.get("amount") or 0),
                str(event.get("currency") or "USD"),
                (event.get("merchant") or {}).get("descriptor"),
            )
            outcome = apply(db, report)
    log.info("lithic %s %s: %s", kind, event.get("token"), outcome)
    return JSONResponse({"received": True})


def _asa(db: Any, event: dict[str, Any], livemode: bool) -> JSONResponse:
    amounts = event.get("amounts") or {}
    cardholder = amounts.get("cardholder") or {}
    ask = AuthorizationAsk(
        issuer=PROVIDER,
        card_ref=str((event.get("card") or {}).get("token")),
        amount=int(cardholder.get("amount", event.get("amount")) or 0),
        currency=str(cardholder.get("currency") or event.get("cardholder_currency") or ""),
        merchant_name=(event.get("merchant") or {}).get("descriptor"),
        authorization_ref=event.get("token"),
        livemode=livemode,
    )
    decision = authorize(db, ask)
    result = "APPROVED" if decision.approved else ASA_RESULTS.get(decision.reason, "CARD_PAUSED")
    return JSONResponse({"result": result, "token": event.get("token")})
