"""Test network HTTP routes (agent-api.md §3): the wallet playing the merchant's
processor in test mode.

- `POST /v1/test_network/card_charges` — JSON `wire.CardChargeRequest` → 200
  `wire.CardCharge`, or 402 `{"error": {"type": "card_error", "code": "card_declined",
  "decline_code", "message", "charge"}}` (see `card_charges` for the decline codes).
- `POST /v1/payment_intents` — Stripe's form subset (see `payment_intents`) → a
  payment intent, or a Stripe-shaped error.
- `GET /v1/payment_intents/{id}` — the merchant's own payment intent.

Merchants authenticate with their `sk_test_…` key (Bearer, or Basic with the key as user
name). Both POSTs honour `Idempotency-Key`. Errors never echo card data. The routes only
exist in test mode: with `test_mode` off they answer 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from linkpay import wire
from linkpay.wallet.network import card_charges as card_charges_rules
from linkpay.wallet.network import payment_intents as payment_intent_rules
from linkpay.wallet.network.card_charges import charge_card
from linkpay.wallet.network.idempotency import Outcome, request_fingerprint, run_idempotent
from linkpay.wallet.network.merchants import api_key_from_header, authenticate_merchant
from linkpay.wallet.network.payment_intents import (
    InvalidRequest,
    create_payment_intent,
    parse_params,
    retrieve_payment_intent,
)
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.models import Merchant

log = logging.getLogger("linkpay.wallet.network")

_STRIPE_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "code": {"type": "string"},
                "decline_code": {"type": "string"},
                "message": {"type": "string"},
                "param": {"type": "string"},
            },
            "required": ["type", "message"],
        }
    },
    "required": ["error"],
}
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": _STRIPE_ERROR}}}
    for status, text in (
        (400, "Malformed request (invalid_request_error / idempotency_error)"),
        (401, "Missing or unknown merchant API key"),
        (402, "Declined (card_error, code card_declined, with decline_code)"),
        (404, "Unknown object, or test network disabled"),
        (409, "Idempotency-Key still in use"),
    )
}

router = APIRouter(tags=["test network"], responses=_ERROR_RESPONSES)


def _error(
    status_code: int, error_type: str, code: str, message: str, **extra: Any
) -> JSONResponse:
    headers = None
    if status_code == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="linkpay test network"'}
    error = {"type": error_type, "code": code, "message": message, **extra}
    body = {"error": {key: value for key, value in error.items() if value is not None}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _not_found() -> JSONResponse:
    return _error(404, "invalid_request_error", "not_found", "Not found")


def _test_network_enabled(request: Request) -> bool:
    return bool(getattr(request.app.state.settings, "test_mode", True))


def _as_merchant(
    state: Any, headers: Headers, run: Callable[[Session, Merchant], JSONResponse]
) -> JSONResponse:
    """Authenticate the merchant and run `run` in the same transaction (one database
    round of locking per request). `InvalidRequest` raised inside rolls back → 400."""
    api_key = api_key_from_header(headers.get("authorization"))
    if api_key is None:
        return _unauthenticated()
    try:
        with transaction(state.sessionmaker) as session:
            merchant = authenticate_merchant(session, api_key)
            if merchant is None:
                return _unauthenticated()
            return run(session, merchant)
    except InvalidRequest as exc:
        return JSONResponse(exc.body(), status_code=400)


def _unauthenticated() -> JSONResponse:
    return _error(
        401,
        "invalid_request_error",
        "authentication_required",
        "Invalid or missing API key: send Authorization: Bearer sk_test_…",
    )


def _respond(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


def _idempotent_post(
    session: Session,
    merchant: Merchant,
    headers: Headers,
    *,
    pepper: bytes,
    path: str,
    payload: bytes,
    handler: Callable[[Session], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run a merchant's POST under its Idempotency-Key (replays answer from the store)."""
    return _respond(
        run_idempotent(
            session,
            principal=f"merchant:{merchant.id}",
            key=headers.get("idempotency-key"),
            method="POST",
            path=path,
            fingerprint=request_fingerprint(pepper, "POST", path, payload),
            handler=handler,
        )
    )


# --- card charges ---------------------------------------------------------------------


def _card_charge_sync(state: Any, headers: Headers, raw: bytes, path: str) -> JSONResponse:
    settings = state.settings

    def run(session: Session, merchant: Merchant) -> JSONResponse:
        try:
            body = wire.CardChargeRequest.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            param, message = wire.describe_validation_errors(exc.errors(include_input=False))
            return _error(400, "invalid_request_error", "invalid_request", message, param=param)

        def handler(session: Session) -> tuple[int, dict[str, Any]]:
            result = charge_card(session, merchant, body, settings=settings)
            if isinstance(result, wire.CardCharge):
                log.info(
                    "card charge %s succeeded (%s %s)", result.id, result.amount, result.currency
                )
                return 200, result.model_dump(mode="json")
            charge, decline = result
            log.info("card charge %s declined: %s", charge.id, decline.decline_code)
            return 402, {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline.decline_code,
                    "message": decline.message,
                    "charge": charge.model_dump(mode="json"),
                }
            }

        return _idempotent_post(
            session,
            merchant,
            headers,
            pepper=settings.pepper,
            path=path,
            payload=raw,
            handler=handler,
        )

    return _as_merchant(state, headers, run)


@router.post(
    "/v1/test_network/card_charges",
    summary="Charge a one-time virtual card (test network)",
    description=card_charges_rules.__doc__,
    response_model=wire.CardCharge,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": wire.CardChargeRequest.model_json_schema()}},
        }
    },
)
async def create_card_charge(request: Request) -> JSONResponse:
    if not _test_network_enabled(request):
        return _not_found()
    raw = await request.body()
    return await run_in_threadpool(
        _card_charge_sync, request.app.state, request.headers, raw, request.url.path
    )


# --- payment intents (shared payment tokens) ------------------------------------------


def _payment_intent_sync(
    state: Any, headers: Headers, items: list[tuple[str, str]], path: str
) -> JSONResponse:
    canonical = json.dumps(sorted(items), separators=(",", ":")).encode()

    def run(session: Session, merchant: Merchant) -> JSONResponse:
        params = parse_params(items)

        def handler(session: Session) -> tuple[int, dict[str, Any]]:
            status_code, body = create_payment_intent(session, merchant, params)
            if status_code == 200:
                log.info(
                    "payment intent %s succeeded (%s %s)",
                    body["id"],
                    params.amount,
                    params.currency,
                )
            else:
                log.info("payment intent declined: %s", body["error"]["decline_code"])
            return status_code, body

        return _idempotent_post(
            session,
            merchant,
            headers,
            pepper=state.settings.pepper,
            path=path,
            payload=canonical,
            handler=handler,
        )

    return _as_merchant(state, headers, run)


@router.post(
    "/v1/payment_intents",
    summary="Create and confirm a payment intent with a shared payment token",
    description=payment_intent_rules.__doc__,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "amount": {"type": "integer"},
                            "currency": {"type": "string"},
                            "shared_payment_granted_token": {"type": "string"},
                            "confirm": {"type": "boolean"},
                            "description": {"type": "string"},
                        },
                        "required": ["amount", "currency", "shared_payment_granted_token"],
                        "additionalProperties": True,
                    }
                }
            },
        }
    },
    responses={200: {"description": "The payment intent", "model": wire.PaymentIntent}},
)
async def create_payment_intent_route(request: Request) -> JSONResponse:
    if not _test_network_enabled(request):
        return _not_found()
    content_type = request.headers.get("content-type", "")
    if (
        "application/x-www-form-urlencoded" not in content_type
        and "multipart/form-data" not in content_type
    ):
        return _error(
            400,
            "invalid_request_error",
            "invalid_request",
            "Send the parameters form-encoded (application/x-www-form-urlencoded).",
        )
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    return await run_in_threadpool(
        _payment_intent_sync, request.app.state, request.headers, items, request.url.path
    )


def _retrieve_sync(state: Any, headers: Headers, intent_id: str) -> JSONResponse:
    def run(session: Session, merchant: Merchant) -> JSONResponse:
        intent = retrieve_payment_intent(session, merchant, intent_id)
        if intent is None:
            return _error(
                404,
                "invalid_request_error",
                "resource_missing",
                "No such payment_intent.",
                param="id",
            )
        return JSONResponse(intent)

    return _as_merchant(state, headers, run)


@router.get(
    "/v1/payment_intents/{intent_id}",
    summary="Retrieve one of the merchant's payment intents",
    responses={200: {"description": "The payment intent", "model": wire.PaymentIntent}},
)
async def get_payment_intent(intent_id: str, request: Request) -> JSONResponse:
    if not _test_network_enabled(request):
        return _not_found()
    return await run_in_threadpool(_retrieve_sync, request.app.state, request.headers, intent_id)
