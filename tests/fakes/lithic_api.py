"""A fake of the Lithic API subset linkpay uses, for the official `lithic` SDK.

Cards: create (`SINGLE_USE` with `spend_limit` / `spend_limit_duration`), retrieve (PAN
and CVV, as Lithic returns them to PCI-enabled programs and in sandbox), update
(`state` OPEN / PAUSED / CLOSED; CLOSED is final), list (cursor pages, `state` filter).
It authenticates with the raw key in `Authorization`, as the SDK sends it, and rejects
unknown body fields like Lithic's validation does.

As the card network it sends Auth Stream Access requests
(`card_authorization.approval_request`) signed with Standard Webhooks headers to the
wallet, reads `{"result": "APPROVED" | <decline>}`, closes a `SINGLE_USE` card after its
first approval, and reports settlement as `card_transaction.updated`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes.common import Faults, dumps, standard_webhook_headers

CREATE_FIELDS = {
    "type",
    "spend_limit",
    "spend_limit_duration",
    "memo",
    "state",
    "tags",
    "account_token",
    "card_program_token",
    "exp_month",
    "exp_year",
}
UPDATE_FIELDS = {
    "state",
    "memo",
    "spend_limit",
    "spend_limit_duration",
    "tags",
    "comment",
    "substatus",
}
CARD_TYPES = {"SINGLE_USE", "MERCHANT_LOCKED", "VIRTUAL"}
DURATIONS = {"TRANSACTION", "MONTHLY", "ANNUALLY", "FOREVER"}


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"debugging_request_id": str(uuid.uuid4()), "message": message}, status)


class FakeLithic:
    def __init__(self, api_key: str, webhook_secret: str, environment: str = "sandbox") -> None:
        self.api_key, self.webhook_secret, self.environment = api_key, webhook_secret, environment
        self.webhook_url: str | None = None
        self.faults = Faults()
        self.cards: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        # Called with each new card before the response goes out (crash tests hold it).
        self.on_card_created: Any = None
        self.lock = threading.RLock()
        self.app = Starlette(
            routes=[
                Route("/v1/cards", self._cards, methods=["GET", "POST"]),
                Route("/v1/cards/{token}", self._card, methods=["GET", "PATCH"]),
            ]
        )

    def _guard(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != self.api_key:
            return _error(401, "Please provide API key in Authorization header")
        status = self.faults.take()
        return _error(status, "Internal server error (fake outage)") if status else None

    async def _cards(self, request: Request) -> Response:
        refused = self._guard(request)
        if refused:
            return refused
        if request.method == "GET":
            return self._list(dict(request.query_params))
        body = json.loads(await request.body() or b"{}")
        unknown = sorted(set(body) - CREATE_FIELDS)
        if unknown:
            return _error(400, f"Unexpected field(s): {', '.join(unknown)}")
        if body.get("type") not in CARD_TYPES:
            return _error(400, "type: must be one of SINGLE_USE, MERCHANT_LOCKED, VIRTUAL")
        if body.get("spend_limit_duration", "FOREVER") not in DURATIONS:
            return _error(400, "spend_limit_duration: invalid")
        with self.lock:
            self.requests.append(("POST", "/v1/cards", body))
            card = self._new_card(body)
        return JSONResponse(card)

    def _new_card(self, body: dict[str, Any]) -> dict[str, Any]:
        pan = "5123459" + "".join(str(secrets.randbelow(10)) for _ in range(8))
        pan += _luhn_digit(pan)
        token = str(uuid.uuid4())
        card = {
            "token": token,
            "account_token": str(uuid.uuid4()),
            "card_program_token": "00000000-0000-0000-1000-000000000000",
            "created": _iso(),
            "funding": None,
            "last_four": pan[-4:],
            "pin_status": "OK",
            "spend_limit": int(body.get("spend_limit", 0)),
            "spend_limit_duration": body.get("spend_limit_duration", "FOREVER"),
            "state": body.get("state", "OPEN"),
            "tags": body.get("tags", {}),
            "type": body["type"],
            "memo": body.get("memo", ""),
            "exp_month": "12",
            "exp_year": "2030",
            "hostname": "",
            "pan": pan,
            "cvv": f"{secrets.randbelow(1000):03d}",
        }
        self.cards[token] = card
        if self.on_card_created is not None:
            self.on_card_created(card)
        return card

    async def _card(self, request: Request) -> Response:
        refused = self._guard(request)
        if refused:
            return refused
        token = request.path_params["token"]
        with self.lock:
            card = self.cards.get(token)
            if card is None:
                return _error(404, "Card not found")
            if request.method == "GET":
                return JSONResponse(card)
            body = json.loads(await request.body() or b"{}")
            unknown = sorted(set(body) - UPDATE_FIELDS)
            if unknown:
                return _error(400, f"Unexpected field(s): {', '.join(unknown)}")
            if card["state"] == "CLOSED" and body.get("state", "CLOSED") != "CLOSED":
                return _error(400, "Card is closed and cannot be modified")
            self.requests.append(("PATCH", f"/v1/cards/{token}", body))
            card.update(body)
            return JSONResponse(card)

    def _list(self, query: dict[str, str]) -> Response:
        unknown = sorted(
            set(query)
            - {
                "state",
                "page_size",
                "starting_after",
                "ending_before",
                "begin",
                "end",
                "account_token",
                "memo",
            }
        )
        if unknown:
            return _error(400, f"Unexpected query parameter(s): {', '.join(unknown)}")
        with self.lock:
            cards = [c for c in self.cards.values() if c["state"] == query.get("state", c["state"])]
        cards.sort(key=lambda c: c["created"])
        after = query.get("starting_after")
        if after:
            tokens = [c["token"] for c in cards]
            cards = cards[tokens.index(after) + 1 :] if after in tokens else []
        size = int(query.get("page_size", 50))
        public = [{k: v for k, v in c.items() if k not in ("pan", "cvv")} for c in cards[:size]]
        return JSONResponse({"data": public, "has_more": len(cards) > size})

    # ---- the card network side ---------------------------------------------
    def send(
        self, payload: dict[str, Any], *, signed_at: int | None = None, secret: str | None = None
    ) -> httpx.Response:
        body = dumps(payload)
        headers = standard_webhook_headers(
            secret or self.webhook_secret, "msg_" + secrets.token_hex(12), body, signed_at
        )
        assert self.webhook_url, "point webhook_url at the wallet first"
        return httpx.post(
            self.webhook_url,
            content=body,
            timeout=10,
            headers={**headers, "Content-Type": "application/json"},
        )

    def authorize(
        self,
        card_token: str,
        amount: int,
        *,
        currency: str = "USD",
        descriptor: str = "ROCKET RIDES",
        **send: Any,
    ) -> tuple[bool, httpx.Response]:
        """One ASA request; returns (approved, the wallet's response)."""
        with self.lock:
            card = dict(
                self.cards.get(card_token)
                or {
                    "token": card_token,
                    "last_four": "0000",
                    "memo": "",
                    "spend_limit": 0,
                    "spend_limit_duration": "TRANSACTION",
                    "state": "OPEN",
                    "tags": {},
                    "type": "SINGLE_USE",
                }
            )
        token = str(uuid.uuid4())
        money = {"amount": amount, "currency": currency}
        payload = {
            "event_type": "card_authorization.approval_request",
            "token": token,
            "acquirer_fee": 0,
            "amount": amount,
            "authorization_amount": amount,
            "amounts": {
                "cardholder": {**money, "conversion_rate": "1.0"},
                "hold": money,
                "merchant": money,
                "settlement": None,
            },
            "avs": {"address": "", "address_on_file_match": "NOT_PRESENT", "zipcode": ""},
            "card": {
                k: card[k]
                for k in (
                    "token",
                    "last_four",
                    "memo",
                    "spend_limit",
                    "spend_limit_duration",
                    "state",
                    "tags",
                    "type",
                )
            },
            "cardholder_currency": currency,
            "cash_amount": 0,
            "created": _iso(),
            "merchant": {
                "acceptor_id": "452322000053360",
                "acquiring_institution_id": "333301",
                "city": "SAN FRANCISCO",
                "country": "USA",
                "descriptor": descriptor,
                "mcc": "5734",
                "state": "CA",
            },
            "merchant_amount": amount,
            "merchant_currency": currency,
            "settled_amount": 0,
            "status": "AUTHORIZATION",
            "transaction_initiator": "CARDHOLDER",
        }
        response = self.send(payload, **send)
        approved = response.status_code == 200 and response.json().get("result") == "APPROVED"
        with self.lock:
            live = self.cards.get(card_token)
            if approved and live is not None and live["type"] == "SINGLE_USE":
                live["state"] = "CLOSED"  # Lithic closes single-use cards on first approval
        self.last_authorization = payload
        return approved, response

    def settle(
        self,
        card_token: str,
        amount: int,
        *,
        status: str = "SETTLED",
        descriptor: str = "ROCKET RIDES",
    ) -> httpx.Response:
        """The transaction's settlement (or `VOIDED`, or a `RETURN` for a refund)."""
        payload = {
            "event_type": "card_transaction.updated",
            "token": str(uuid.uuid4()),
            "card_token": card_token,
            "amount": amount,
            "settled_amount": amount,
            "status": status,
            "result": "APPROVED",
            "created": _iso(),
            "updated": _iso(),
            "currency": "USD",
            "merchant": {"descriptor": descriptor},
        }
        return self.send(payload)


def _luhn_digit(payload: str) -> str:
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)
