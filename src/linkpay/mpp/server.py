"""The merchant side of MPP: put a price on a route, issue challenges, verify, settle.

`PaymentGate` is framework-neutral (`authorize(...)` takes a method, path, headers and
body and returns `Paid` or `Denied`); `gate.charge(Price(...))` wraps a Starlette or
FastAPI endpoint. We build on pympp's wire types and HMAC, but not on its composed
handler, because we want:

- the spec's specific problem types (`malformed-credential`, `invalid-challenge`,
  `payment-expired`, `verification-failed`, 400 `method-unsupported`), each 402 with a
  fresh challenge and `Cache-Control: no-store`;
- single-use challenge ids (a `UsedChallengeStore` claimed before settling), so one
  challenge can never be paid twice, not even with two different tokens;
- route binding without changing the request the client sees: `opaque` carries a
  random nonce and the `METHOD /path` scope (the query string is not bound), both
  covered by the HMAC id;
- secret rotation: challenges issued under an older secret verify until they expire.

Choices: a credential for a method this gate does not offer gets 400
`method-unsupported` (checked before the HMAC, so the client learns what is wrong);
a credential without `expires` is refused (fail closed); a settlement that gets no
trustworthy answer is a 500 `internal-payment-error` with no new challenge, so a client
never pays again for something that may have been paid.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import mpp
from linkpay.canonical import dumps as canonical_json
from linkpay.mpp import wire
from linkpay.mpp.processor import (
    ProcessorDeclined,
    ProcessorUnavailable,
    WalletProcessor,
)
from linkpay.mpp.stores import MemoryUsedChallengeStore, UsedChallengeStore

logger = logging.getLogger("linkpay.mpp.server")


@dataclass(frozen=True)
class Price:
    """What a route costs: `amount` in minor units (cents), lower-case `currency`."""

    amount: int
    currency: str = "usd"
    description: str | None = None
    external_id: str | None = None
    intent: str = "charge"  # or "session": Stripe's session intent, opened with the SPT

    def __post_init__(self) -> None:
        if self.intent not in ("charge", "session"):
            raise ValueError("intent must be 'charge' or 'session'")
        if self.amount <= 0:
            raise ValueError("amount must be positive (minor units)")
        if len(self.currency) != 3 or not self.currency.islower():
            raise ValueError("currency must be a lower-case ISO 4217 code")


@dataclass(frozen=True)
class Paid:
    """The credential settled: serve the resource with `receipt_header`."""

    challenge_id: str
    reference: str
    receipt_header: str
    amount: int
    currency: str
    status: int = 200


@dataclass(frozen=True)
class Denied:
    """Answer with this response instead of the resource."""

    status: int
    headers: list[tuple[str, str]]
    body: dict[str, Any]

    @property
    def problem_type(self) -> str:
        return str(self.body.get("type", "")).removeprefix(wire.PROBLEM_BASE)


class PaymentGate:
    """Issue and verify stripe/charge challenges for one merchant (one realm, one secret)."""

    def __init__(
        self,
        *,
        realm: str,
        secret_key: str | Sequence[str],
        network_id: str,
        processor: WalletProcessor | Any,
        store: UsedChallengeStore | None = None,
        payment_method_types: Sequence[str] = ("card",),
        challenge_ttl: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        keys = [secret_key] if isinstance(secret_key, str) else list(secret_key)
        if not keys or any(len(key) < 32 for key in keys):
            raise ValueError("secret keys must be at least 32 characters")
        self.realm = realm
        self._keys = keys  # first one issues, all of them verify (rotation)
        self.network_id = network_id
        self.processor = processor
        self.store = store or MemoryUsedChallengeStore()
        self.payment_method_types = list(payment_method_types)
        self.challenge_ttl = challenge_ttl
        self._clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ challenges

    def request_for(self, price: Price) -> dict[str, Any]:
        request: dict[str, Any] = {
            "amount": str(price.amount),
            "currency": price.currency,
            "methodDetails": {
                "networkId": self.network_id,
                "paymentMethodTypes": list(self.payment_method_types),
            },
        }
        if price.description:
            request["description"] = price.description
        if price.external_id:
            request["externalId"] = price.external_id
        return request

    def issue(
        self, price: Price, *, http_method: str, path: str, body: bytes | None = None
    ) -> mpp.Challenge:
        """A fresh HMAC-bound challenge for this route and price."""
        expires = wire.format_expires(self._clock() + self.challenge_ttl)
        return mpp.Challenge.create(
            secret_key=self._keys[0],
            realm=self.realm,
            method="stripe",
            intent=price.intent,
            request=self.request_for(price),
            expires=expires,
            digest=wire.compute_body_digest(body) if body else None,
            description=price.description,
            meta={"nonce": secrets.token_urlsafe(12), "scope": _scope(http_method, path)},
        )

    def _deny(
        self,
        slug: str,
        detail: str,
        price: Price,
        *,
        http_method: str,
        path: str,
        body: bytes | None,
        fresh: bool = True,
        status: int | None = None,
    ) -> Denied:
        headers = [("Cache-Control", "no-store"), ("Content-Type", "application/problem+json")]
        challenge_id = None
        if fresh:
            challenge = self.issue(price, http_method=http_method, path=path, body=body)
            challenge_id = challenge.id
            headers.append(("WWW-Authenticate", challenge.to_www_authenticate(self.realm)))
        problem = wire.problem(slug, detail, status=status, challenge_id=challenge_id)
        return Denied(problem["status"], headers, problem)

    # ------------------------------------------------------------------ verification

    async def authorize(
        self,
        *,
        http_method: str,
        path: str,
        authorization: Sequence[str],
        body: bytes | None,
        price: Price,
    ) -> Paid | Denied:
        """Check the request's Payment credential for `price`; settle it when valid."""

        def deny(slug: str, detail: str, **kw: Any) -> Denied:
            return self._deny(
                slug, detail, price, http_method=http_method, path=path, body=body, **kw
            )

        found = wire.extract_payment_credentials(authorization)
        if not found:
            return deny("payment-required", "Payment is required for this resource.")
        if len(found) > 1:
            return deny("bad-request", "Send exactly one Payment credential.", fresh=False)
        try:
            credential = wire.parse_credential(found[0])
        except mpp.ParseError as exc:
            return deny("malformed-credential", f"The credential could not be parsed: {exc}")
        echo = credential.challenge

        if echo.method != "stripe":
            return deny(
                "method-unsupported",
                f"This resource accepts only method 'stripe' (intent '{price.intent}').",
                status=400,
            )
        try:
            challenge = wire.echo_to_challenge(echo)
        except mpp.ParseError:
            return deny("malformed-credential", "The echoed challenge request is not valid.")
        if echo.realm != self.realm or not self._issued_by_us(challenge):
            return deny(
                "invalid-challenge", "The challenge was not issued by this merchant or was altered."
            )
        if echo.intent != price.intent:
            return deny("invalid-challenge", f"Only intent '{price.intent}' is accepted here.")
        if (challenge.opaque or {}).get("scope") != _scope(http_method, path):
            return deny("invalid-challenge", "The challenge was issued for another resource.")
        if canonical_json(challenge.request) != canonical_json(self.request_for(price)):
            return deny("invalid-challenge", "The challenge does not match this resource's price.")
        if not echo.expires:
            return deny("invalid-challenge", "The challenge has no expiry.")
        try:
            expires_at = wire.parse_expires(echo.expires)
        except ValueError:
            return deny("invalid-challenge", "The challenge expiry is not a valid timestamp.")
        if expires_at <= self._clock():
            return deny("payment-expired", "The challenge has expired; pay the fresh challenge.")
        if echo.digest and not wire.verify_body_digest(echo.digest, body or b""):
            return deny(
                "invalid-challenge", "The request body does not match the challenge digest."
            )

        payload = credential.payload if isinstance(credential.payload, dict) else {}
        spt = wire.payload_token(payload, price.intent)
        if spt is None:
            needs = "action 'open' and a 'grantedToken'" if price.intent == "session" else "'spt'"
            return deny("invalid-payload", f"The credential payload needs {needs}.")
        external_id = challenge.request.get("externalId")
        if external_id is not None and payload.get("externalId") != external_id:
            return deny("invalid-payload", "The payload must echo the request's externalId.")

        # The claim may be a database round trip: keep it off the event loop.
        if not await asyncio.to_thread(self.store.claim, echo.id, expires_at):
            return deny(
                "invalid-challenge", "This challenge was already used; pay the fresh challenge."
            )

        return await self._settle(challenge, spt, price, deny)

    def _issued_by_us(self, challenge: mpp.Challenge) -> bool:
        """HMAC check under every key; odd JSON (NaN-like floats…) simply fails."""
        for key in self._keys:
            try:
                if challenge.verify(key, self.realm):
                    return True
            except Exception:  # noqa: BLE001 - untrusted input that cannot be canonicalized
                return False
        return False

    async def _settle(
        self, challenge: mpp.Challenge, spt: str, price: Price, deny: Callable[..., Denied]
    ) -> Paid | Denied:
        try:
            intent = await self.processor.create_payment_intent(
                amount=price.amount,
                currency=price.currency,
                spt=spt,
                idempotency_key=f"mpp_{challenge.id}_{spt}",
                metadata={"mpp_challenge_id": challenge.id, "mpp_intent": price.intent},
            )
        except ProcessorDeclined as exc:
            logger.info("mpp settlement declined: challenge=%s code=%s", challenge.id, exc.code)
            return deny(
                "verification-failed", f"The payment was refused: {exc.message} ({exc.code})."
            )
        except ProcessorUnavailable as exc:
            logger.warning("mpp settlement outcome unknown: challenge=%s (%s)", challenge.id, exc)
            return deny(
                "internal-payment-error",
                "The payment processor did not answer; the payment may or may not have "
                "been made. Do not pay again for this request.",
                fresh=False,
            )
        if intent.status == "requires_action":
            return deny("payment-action-required", "The payment needs an action from the payer.")
        if intent.status != "succeeded":
            return deny(
                "verification-failed", f"The payment did not succeed (status {intent.status})."
            )
        extensions: dict[str, Any] = {"challengeId": challenge.id}
        if price.external_id:
            extensions["externalId"] = price.external_id
        receipt = wire.success_receipt(intent.id, method="stripe", **extensions)
        return Paid(challenge.id, intent.id, receipt, price.amount, price.currency)

    # ------------------------------------------------------------------ framework glue

    def openapi_extra(self, price: Price) -> dict[str, Any]:
        """`x-payment-info` (draft-payment-discovery) and the 402 response for a route."""
        offer: dict[str, Any] = {
            "intent": price.intent,
            "method": "stripe",
            "amount": str(price.amount),
            "currency": price.currency,
        }
        if price.description:
            offer["description"] = price.description
        return {
            "x-payment-info": {"offers": [offer]},
            "responses": {
                "402": {
                    "description": "Payment Required (WWW-Authenticate: Payment challenge)",
                    "content": {"application/problem+json": {"schema": {"type": "object"}}},
                }
            },
        }

    def charge(self, price: Price) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate a Starlette/FastAPI endpoint that takes `request: Request`.

        Unpaid or badly paid requests get the 402/400 problem response; paid ones run the
        endpoint (with `request.state.mpp_payment` set to the `Paid` result) and carry
        `Payment-Receipt` and `Cache-Control: private` on a 2xx answer.
        """

        def decorator(endpoint: Callable[..., Any]) -> Callable[..., Any]:
            if "request" not in inspect.signature(endpoint).parameters:
                raise TypeError("a paid endpoint must take a `request: Request` parameter")

            @functools.wraps(endpoint)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                from fastapi.encoders import jsonable_encoder
                from starlette.responses import JSONResponse, Response

                request = kwargs["request"]
                body = await request.body()
                outcome = await self.authorize(
                    http_method=request.method,
                    path=request.url.path,
                    authorization=request.headers.getlist("authorization"),
                    body=body or None,
                    price=price,
                )
                if isinstance(outcome, Denied):
                    response = JSONResponse(outcome.body, status_code=outcome.status)
                    for name, value in outcome.headers:
                        if name.lower() == "content-type":
                            response.headers["content-type"] = value
                        else:
                            response.headers.append(name, value)
                    return response
                request.state.mpp_payment = outcome
                result = endpoint(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                if not isinstance(result, Response):
                    result = JSONResponse(jsonable_encoder(result))
                if 200 <= result.status_code < 300:
                    result.headers["Payment-Receipt"] = outcome.receipt_header
                    result.headers["Cache-Control"] = "private"
                return result

            return wrapper

        return decorator


def _scope(http_method: str, path: str) -> str:
    return f"{http_method.upper()} {path}"
