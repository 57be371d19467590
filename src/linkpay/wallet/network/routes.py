"""Test network HTTP routes: the wallet playing the merchant's
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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from linkpay import wire
from linkpay.wallet.deps import DbDep, Deferred, SettingsDep, Unit, UnitDep, UnitRoute
from linkpay.wallet.errors import ANY_OPERATION_RESPONSES, CardNetworkError
from linkpay.wallet.network import card_charges as card_charges_rules
from linkpay.wallet.network import payment_intents as payment_intent_rules
from linkpay.wallet.network.card_charges import charge_card
from linkpay.wallet.network.idempotency import Outcome, request_fingerprint, run_idempotent
from linkpay.wallet.network.merchants import api_key_from_header, authenticate_merchant
from linkpay.wallet.network.payment_intents import (
    create_payment_intent,
    parse_params,
    retrieve_payment_intent,
)
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
    **{
        status: {"description": text, "content": {"application/json": {"schema": _STRIPE_ERROR}}}
        for status, text in (
            (400, "Malformed request (invalid_request_error / idempotency_error)"),
            (401, "Missing or unknown merchant API key"),
            (402, "Declined (card_error, code card_declined, with decline_code)"),
            (404, "Unknown object, or test network disabled"),
            (409, "Idempotency-Key still in use"),
        )
    },
    # Oversized body and overload: answered before (or around) these routes, in the
    # wallet's own error shape (no Stripe `type`).
    **ANY_OPERATION_RESPONSES,
}


def _unauthenticated() -> CardNetworkError:
    return CardNetworkError(
        401,
        "invalid_request_error",
        "authentication_required",
        "Invalid or missing API key: send Authorization: Bearer sk_test_…",
    )


async def _test_network_only(settings: SettingsDep) -> None:
    """The routes only exist in test mode."""
    if not settings.test_mode:
        raise CardNetworkError(404, "invalid_request_error", "not_found", "Not found")


router = APIRouter(
    tags=["test network"],
    responses=_ERROR_RESPONSES,
    route_class=UnitRoute,
    dependencies=[Depends(_test_network_only)],
)


class _Merchant(Deferred):
    def __init__(self, unit: Unit, api_key: str) -> None:
        super().__init__(unit)
        self.api_key = api_key

    def resolve(self, session: Session) -> Merchant:
        merchant = authenticate_merchant(session, self.api_key)
        if merchant is None:
            raise _unauthenticated()
        return merchant


async def _merchant(unit: UnitDep, request: Request) -> Any:
    """The merchant behind its `sk_test_…` key (Bearer, or Basic with the key as user)."""
    api_key = api_key_from_header(request.headers.get("authorization"))
    if api_key is None:
        raise _unauthenticated()
    return _Merchant(unit, api_key)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


async def _form_items(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "")
    if (
        "application/x-www-form-urlencoded" not in content_type
        and "multipart/form-data" not in content_type
    ):
        raise CardNetworkError(
            400,
            "invalid_request_error",
            "invalid_request",
            "Send the parameters form-encoded (application/x-www-form-urlencoded).",
        )
    form = await request.form()
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


MerchantDep = Annotated[Merchant, Depends(_merchant)]
RawBodyDep = Annotated[bytes, Depends(_raw_body)]
FormItemsDep = Annotated[list[tuple[str, str]], Depends(_form_items)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", include_in_schema=False)]


def _respond(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


def _idempotent_post(
    session: Session,
    merchant: Merchant,
    key: str | None,
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
            key=key,
            method="POST",
            path=path,
            fingerprint=request_fingerprint(pepper, "POST", path, payload),
            handler=handler,
        )
    )


# --- card charges ---------------------------------------------------------------------


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
def create_card_charge(
    request: Request,
    raw: RawBodyDep,
    merchant: MerchantDep,
    session: DbDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    try:
        body = wire.CardChargeRequest.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        param, message = wire.describe_validation_errors(exc.errors(include_input=False))
        raise CardNetworkError(
            400, "invalid_request_error", "invalid_request", message, param=param
        ) from None

    def handler(session: Session) -> tuple[int, dict[str, Any]]:
        result = charge_card(session, merchant, body, settings=settings)
        if isinstance(result, wire.CardCharge):
            log.info("card charge %s succeeded (%s %s)", result.id, result.amount, result.currency)
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
        idempotency_key,
        pepper=settings.pepper,
        path=request.url.path,
        payload=raw,
        handler=handler,
    )


# --- payment intents (shared payment tokens) ------------------------------------------


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
def create_payment_intent_route(
    request: Request,
    items: FormItemsDep,
    merchant: MerchantDep,
    session: DbDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    canonical = json.dumps(sorted(items), separators=(",", ":")).encode()
    params = parse_params(items)

    def handler(session: Session) -> tuple[int, dict[str, Any]]:
        status_code, body = create_payment_intent(session, merchant, params)
        if status_code == 200:
            log.info(
                "payment intent %s succeeded (%s %s)", body["id"], params.amount, params.currency
            )
        else:
            log.info("payment intent declined: %s", body["error"]["decline_code"])
        return status_code, body

    return _idempotent_post(
        session,
        merchant,
        idempotency_key,
        pepper=settings.pepper,
        path=request.url.path,
        payload=canonical,
        handler=handler,
    )


@router.get(
    "/v1/payment_intents/{intent_id}",
    summary="Retrieve one of the merchant's payment intents",
    responses={200: {"description": "The payment intent", "model": wire.PaymentIntent}},
)
def get_payment_intent(intent_id: str, merchant: MerchantDep, session: DbDep) -> JSONResponse:
    intent = retrieve_payment_intent(session, merchant, intent_id)
    if intent is None:
        raise CardNetworkError(
            404,
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent.",
            param="id",
        )
    return JSONResponse(intent)
