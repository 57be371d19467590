"""A fake of the Stripe API subset linkpay uses, for the official `stripe` SDK.

Issuing cardholders and cards (`expand[]=number,cvc` reveals the number and CVC, cancel
by `status=canceled`), shared payment issued tokens (create, revoke), Customers,
SetupIntents and PaymentMethods. Objects start from Stripe's published fixtures
(`stripe_shapes.json`). Like Stripe it authenticates with `Bearer sk_…`, rejects unknown
parameters (`parameter_unknown`), replays POSTs with the same `Idempotency-Key` and
parameters (`Idempotent-Replayed: true`) and refuses the same key with other parameters.

It also plays the card network: `authorize()` sends a signed
`issuing_authorization.request` to the wallet's webhook and reads `{"approved": …}`;
`capture()` / `refund()` send `issuing_transaction.created`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes.common import Faults, Idempotency, decode_form, dumps, stripe_signature, unknown_param

SHAPES = json.loads((Path(__file__).with_name("stripe_shapes.json")).read_text())["resources"]
API_VERSION = "2026-10-28.endive"
_ADDRESS = {
    "line1": True,
    "line2": True,
    "city": True,
    "state": True,
    "postal_code": True,
    "country": True,
}
_LIMIT = {"amount": True, "interval": True, "categories": True}
CARDHOLDER_PARAMS = {
    "name": True,
    "email": True,
    "phone_number": True,
    "type": True,
    "status": True,
    "billing": {"address": _ADDRESS},
    "individual": True,
    "metadata": True,
    "expand": True,
}
CARD_PARAMS = {
    "cardholder": True,
    "currency": True,
    "type": True,
    "status": True,
    "metadata": True,
    "spending_controls": {
        "spending_limits": _LIMIT,
        "allowed_categories": True,
        "blocked_categories": True,
        "allowed_merchant_countries": True,
    },
    "lifecycle_controls": {"cancel_after": {"payment_count": True}},
    "expand": True,
}
CARD_UPDATE_PARAMS = {
    "status": True,
    "cancellation_reason": True,
    "metadata": True,
    "spending_controls": CARD_PARAMS["spending_controls"],
    "expand": True,
}
TOKEN_PARAMS = {
    "payment_method": True,
    "customer": True,
    "metadata": True,
    "seller_details": {"network_business_profile": True, "external_id": True},
    "usage_limits": {"currency": True, "max_amount": True, "expires_at": True},
}
SETUP_INTENT_PARAMS = {
    "customer": True,
    "payment_method_types": True,
    "usage": True,
    "metadata": True,
    "automatic_payment_methods": True,
}


class StripeError(Exception):
    def __init__(self, status: int, kind: str, message: str, **extra: Any) -> None:
        self.status, self.body = status, {"error": {"type": kind, "message": message, **extra}}


def _new(prefix: str) -> str:
    return f"{prefix}_" + secrets.token_hex(12)


def _check(params: dict[str, Any], allowed: dict[str, Any]) -> None:
    name = unknown_param(params, allowed)
    if name:
        raise StripeError(
            400,
            "invalid_request_error",
            f"Received unknown parameter: {name}",
            code="parameter_unknown",
            param=name,
        )


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400, "invalid_request_error", f"Invalid integer: {value}", param=name
        ) from None


class FakeStripe:
    """State and behaviour; `app` is the ASGI app, `webhook_url` where events go."""

    def __init__(self, api_key: str, webhook_secret: str) -> None:
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.livemode = not api_key.startswith("sk_test_")
        self.webhook_url: str | None = None
        self.faults = Faults()
        self.idempotency = Idempotency()
        self.objects: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, tuple[str, str]] = {}  # card id → (number, cvc)
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (method, path, params)
        # Called with each new card before the response goes out (crash tests hold it).
        self.on_card_created: Any = None
        self.lock = threading.RLock()
        self.app = Starlette(
            routes=[Route("/v1/{path:path}", self._handle, methods=["GET", "POST", "DELETE"])]
        )

    # ---- HTTP ---------------------------------------------------------------
    async def _handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        params = decode_form(body if request.method == "POST" else request.url.query)
        path = request.url.path
        try:
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                raise StripeError(401, "invalid_request_error", "Invalid API Key provided")
            status = self.faults.take()
            if status is not None:
                raise StripeError(status, "api_error", "An unknown error occurred (fake outage)")
            key = request.headers.get("idempotency-key")
            fingerprint = hashlib.sha256(f"{path}?{body}".encode()).hexdigest()
            with self.lock:
                if request.method == "POST" and key:
                    replay = self.idempotency.lookup(self.api_key, key, fingerprint)
                    if replay == "mismatch":
                        raise StripeError(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                        )
                    if isinstance(replay, tuple):
                        return Response(
                            replay[1],
                            replay[0],
                            media_type="application/json",
                            headers={"Idempotent-Replayed": "true"},
                        )
                self.requests.append((request.method, path, params))
                result = self._route(request.method, path.removeprefix("/v1/"), params)
                payload = dumps(result)
                if request.method == "POST" and key:
                    self.idempotency.store(self.api_key, key, fingerprint, 200, payload)
            return Response(
                payload, 200, media_type="application/json", headers={"Request-Id": _new("req")}
            )
        except StripeError as error:
            return Response(dumps(error.body), error.status, media_type="application/json")

    def _route(self, method: str, path: str, params: dict[str, Any]) -> Any:
        parts = path.split("/")
        match method, parts:
            case "POST", ["issuing", "cardholders"]:
                return self.create_cardholder(params)
            case "POST", ["issuing", "cards"]:
                return self.create_card(params)
            case "GET", ["issuing", "cards"]:
                return self._list(
                    "issuing.card",
                    params,
                    lambda c: c["status"] == params.get("status", c["status"]),
                )
            case "GET", ["issuing", "cards", card_id]:
                return self.retrieve_card(card_id, params.get("expand") or [])
            case "POST", ["issuing", "cards", card_id]:
                return self.update_card(card_id, params)
            case "POST", ["shared_payment", "issued_tokens"]:
                return self.create_token(params)
            case "GET", ["shared_payment", "issued_tokens"]:
                return self._list(
                    "shared_payment.issued_token",
                    params,
                    lambda t: t["status"] == params.get("status", t["status"]),
                )
            case "POST", ["shared_payment", "issued_tokens", token_id, "revoke"]:
                return self._set(token_id, "shared_payment.issued_token", status="revoked")
            case "POST", ["customers"]:
                _check(params, {"email": True, "name": True, "metadata": True})
                return self._store(
                    "customer",
                    "cus",
                    email=params.get("email"),
                    name=params.get("name"),
                    metadata=params.get("metadata", {}),
                )
            case "POST", ["setup_intents"]:
                _check(params, SETUP_INTENT_PARAMS)
                return self._store(
                    "setup_intent",
                    "seti",
                    customer=params.get("customer"),
                    usage=params.get("usage", "off_session"),
                    metadata=params.get("metadata", {}),
                )
            case "GET", ["setup_intents", intent_id]:
                return self._get(intent_id, "setup_intent")
            case "GET", ["payment_methods", pm_id]:
                return self._get(pm_id, "payment_method")
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({path})")

    # ---- objects ------------------------------------------------------------
    def _store(self, shape: str, prefix: str, **fields: Any) -> dict[str, Any]:
        obj = copy.deepcopy(SHAPES[shape]) if shape in SHAPES else {"object": shape}
        obj.update(id=_new(prefix), created=int(time.time()), livemode=self.livemode, **fields)
        if "client_secret" in obj:
            obj["client_secret"] = f"{obj['id']}_secret_{secrets.token_hex(8)}"
        self.objects[obj["id"]] = obj
        return obj

    def _get(self, object_id: str, kind: str) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such {kind}: '{object_id}'",
                code="resource_missing",
            )
        return obj

    def _set(self, object_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        obj = self._get(object_id, kind)
        obj.update(fields)
        return obj

    def _list(self, kind: str, params: dict[str, Any], keep: Any) -> dict[str, Any]:
        items = [o for o in self.objects.values() if o.get("object") == kind and keep(o)]
        items.sort(key=lambda o: o["created"], reverse=True)
        limit = _int(params.get("limit", 10), "limit")
        after = params.get("starting_after")
        if after:
            ids = [o["id"] for o in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "data": [self._public(o) for o in items[:limit]],
            "has_more": len(items) > limit,
            "url": f"/v1/{kind.replace('.', '/')}s",
        }

    def _public(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k not in ("number", "cvc")}

    def create_cardholder(self, params: dict[str, Any]) -> dict[str, Any]:
        _check(params, CARDHOLDER_PARAMS)
        if not params.get("name") or params.get("type") not in ("individual", "company"):
            raise StripeError(400, "invalid_request_error", "Missing required param: name/type")
        billing = params.get("billing") or {}
        if not (billing.get("address") or {}).get("line1"):
            raise StripeError(
                400,
                "invalid_request_error",
                "Missing required param: billing[address][line1].",
                param="billing[address][line1]",
            )
        return self._store(
            "issuing.cardholder",
            "ich",
            name=params["name"],
            email=params.get("email"),
            type=params["type"],
            billing={"address": {**dict.fromkeys(_ADDRESS), **billing["address"]}},
            metadata=params.get("metadata", {}),
        )

    def create_card(self, params: dict[str, Any]) -> dict[str, Any]:
        _check(params, CARD_PARAMS)
        holder = self._get(str(params.get("cardholder")), "issuing.cardholder")
        if params.get("type") != "virtual" or not params.get("currency"):
            raise StripeError(400, "invalid_request_error", "Only virtual cards in this fake")
        controls = params.get("spending_controls") or {}
        limits = [
            {"amount": _int(x["amount"], "amount"), "interval": x["interval"], "categories": None}
            for x in controls.get("spending_limits") or []
        ]
        number = "4000009" + "".join(str(secrets.randbelow(10)) for _ in range(8))
        number += _luhn_digit(number)
        card = self._store(
            "issuing.card",
            "ic",
            cardholder=holder,
            currency=params["currency"],
            type="virtual",
            status=params.get("status", "inactive"),
            last4=number[-4:],
            metadata=params.get("metadata", {}),
            exp_month=12,
            exp_year=2030,
            spending_controls={
                **SHAPES["issuing.card"]["spending_controls"],
                "spending_limits": limits,
            },
            lifecycle_controls=params.get("lifecycle_controls"),
        )
        self.secrets[card["id"]] = (number, f"{secrets.randbelow(1000):03d}")
        if self.on_card_created is not None:
            self.on_card_created(card)
        return self._public(card)

    def retrieve_card(self, card_id: str, expand: list[str]) -> dict[str, Any]:
        card = dict(self._public(self._get(card_id, "issuing.card")))
        if "number" in expand or "cvc" in expand:
            number, cvc = self.secrets[card_id]
            card.update({"number": number} if "number" in expand else {})
            card.update({"cvc": cvc} if "cvc" in expand else {})
        return card

    def update_card(self, card_id: str, params: dict[str, Any]) -> dict[str, Any]:
        _check(params, CARD_UPDATE_PARAMS)
        card = self._get(card_id, "issuing.card")
        if card["status"] == "canceled" and params.get("status", "canceled") != "canceled":
            raise StripeError(400, "invalid_request_error", "A canceled card cannot be changed")
        card.update({k: v for k, v in params.items() if k in ("status", "metadata")})
        return self._public(card)

    def create_token(self, params: dict[str, Any]) -> dict[str, Any]:
        _check(params, TOKEN_PARAMS)
        limits = params.get("usage_limits") or {}
        if not params.get("payment_method") or not limits.get("max_amount"):
            raise StripeError(400, "invalid_request_error", "Missing payment_method/usage_limits")
        return self._store(
            "shared_payment.issued_token",
            "spt",
            status="active",
            payment_method=params["payment_method"],
            seller_details=params.get("seller_details"),
            usage_limits={
                "currency": limits.get("currency"),
                "max_amount": _int(limits["max_amount"], "max_amount"),
                "expires_at": _int(limits.get("expires_at", 0), "expires_at"),
            },
            metadata=params.get("metadata", {}),
        )

    def confirm_setup_intent(self, intent_id: str, last4: str = "4242") -> dict[str, Any]:
        """What Stripe.js' Payment Element does in the person's browser: a PaymentMethod
        for the card typed into Stripe's iframe, attached to the customer, and the
        SetupIntent `succeeded`."""
        with self.lock:
            intent = self._get(intent_id, "setup_intent")
            pm = self._store("payment_method", "pm", customer=intent["customer"])
            pm["card"] = {**pm["card"], "last4": last4}
            intent.update(status="succeeded", payment_method=pm["id"], last_setup_error=None)
            return pm

    # ---- the card network side ---------------------------------------------
    def send_event(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        signed_at: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        event = copy.deepcopy(SHAPES["event"])
        event.update(
            id=_new("evt"),
            type=event_type,
            created=int(time.time()),
            livemode=self.livemode,
            api_version=API_VERSION,
            data={"object": obj},
        )
        payload = dumps(event)
        signature = stripe_signature(secret or self.webhook_secret, payload, signed_at)
        assert self.webhook_url, "point webhook_url at the wallet first"
        return httpx.post(
            self.webhook_url,
            content=payload,
            timeout=10,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )

    def authorize(
        self,
        card_id: str,
        amount: int,
        *,
        currency: str = "usd",
        merchant_name: str = "Rocket Rides",
        merchant_url: str | None = None,
        authorization_id: str | None = None,
        **send: Any,
    ) -> tuple[bool, httpx.Response]:
        """One (or, with `authorization_id`, an incremental) authorization request."""
        with self.lock:
            card = (
                self._public(self._get(card_id, "issuing.card"))
                if card_id in self.objects
                else {**SHAPES["issuing.card"], "id": card_id}
            )
            auth = self.objects.get(authorization_id or "") or copy.deepcopy(
                SHAPES["issuing.authorization"]
            )
            auth.update(
                id=auth["id"] if authorization_id else _new("iauth"),
                card=card,
                status="pending",
                livemode=self.livemode,
                approved=False,
                merchant_data={**auth["merchant_data"], "name": merchant_name, "url": merchant_url},
                pending_request={
                    **SHAPES["issuing.authorization"]["pending_request"],
                    "amount": amount,
                    "currency": currency,
                    "merchant_amount": amount,
                    "merchant_currency": currency,
                },
            )
        response = self.send_event("issuing_authorization.request", auth, **send)
        approved = response.status_code == 200 and response.json().get("approved") is True
        with self.lock:
            if approved:
                auth["amount"] = auth.get("amount", 0) + amount
            auth.update(
                approved=approved, pending_request=None, status="pending" if approved else "closed"
            )
            self.objects[auth["id"]] = auth
        self.last_authorization = auth
        if response.status_code == 200:
            self.send_event("issuing_authorization.created", auth)
        return approved, response

    def capture(
        self, authorization_id: str, amount: int | None = None, kind: str = "capture"
    ) -> dict[str, Any]:
        with self.lock:
            auth = self.objects[authorization_id]
            value = auth["amount"] if amount is None else amount
            txn = self._store(
                "issuing.transaction",
                "ipi",
                authorization=auth["id"],
                card=auth["card"]["id"],
                cardholder=None,
                type=kind,
                amount=-value if kind == "capture" else value,
                currency=auth["currency"],
                merchant_data=auth["merchant_data"],
            )
            auth["status"] = "closed"
        self.send_event("issuing_transaction.created", txn)
        return txn


def _luhn_digit(payload: str) -> str:
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)
