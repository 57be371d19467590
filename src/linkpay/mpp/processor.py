"""The merchant's processor client: settle an SPT through the wallet's test network.

`POST {wallet}/v1/payment_intents` (form-encoded, the subset of Stripe's API the test
network speaks) with the merchant's `sk_test_…` key, `shared_payment_granted_token=<spt>`,
`confirm=true` and an `Idempotency-Key` of `mpp_<challengeId>_<spt>`, so a retried
settlement can never charge twice.

The same object also offers the duck-typed `payment_intents.create(params, options)`
that pympp's `stripe.charge(client=…)` expects, so a pympp merchant can use our wallet
as its processor without code of its own.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any

import httpx2

from linkpay.mpp.exchange import tls_context
from linkpay.text import sanitize_text


@dataclass(frozen=True)
class PaymentIntentResult:
    id: str
    status: str
    amount: int | None = None
    currency: str | None = None
    replayed: bool = False


class ProcessorError(Exception):
    """Base: the processor did not settle the payment."""


class ProcessorDeclined(ProcessorError):
    """A definite refusal (token used, wrong network, amount too high, …)."""

    def __init__(self, code: str, message: str, status: int = 402) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class ProcessorUnavailable(ProcessorError):
    """No trustworthy answer (network error, timeout, 5xx): the outcome is unknown."""


@dataclass
class WalletProcessor:
    """Settles SPT payments at a linkpay wallet (`base_url`) with a merchant API key."""

    base_url: str
    api_key: str = field(repr=False)
    timeout: float = 15.0
    transport: Any = None  # an httpx2 transport, for in-process tests

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        # One keep-alive client per event loop (a client must not outlive the loop its
        # connections belong to), all on the process's one TLS context: loading the CA
        # store costs ~50-250 ms, and `mpp pay` in the same process (the demo) has one.
        self._clients: weakref.WeakKeyDictionary[Any, httpx2.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> httpx2.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx2.AsyncClient(
                timeout=self.timeout,
                transport=self.transport,
                follow_redirects=False,
                verify=tls_context(),
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        spt: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> PaymentIntentResult:
        form: dict[str, str] = {
            "amount": str(amount),
            "currency": currency,
            "shared_payment_granted_token": spt,
            "confirm": "true",
        }
        for key, value in (metadata or {}).items():
            form[f"metadata[{key}]"] = value
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Idempotency-Key": idempotency_key,
        }
        try:
            response = await self._client().post(
                f"{self.base_url}/v1/payment_intents", data=form, headers=headers
            )
        except httpx2.HTTPError as exc:
            raise ProcessorUnavailable(f"processor unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise ProcessorUnavailable(f"processor answered {response.status_code}")
        if response.status_code in (401, 403, 404):
            # The merchant's own setup is wrong (key, URL): the token was not looked at,
            # so this is not the payer's failure.
            raise ProcessorUnavailable(
                f"processor refused the merchant's request ({response.status_code}): "
                "check the merchant API key and wallet URL"
            )
        try:
            data = response.json()
        except ValueError:
            raise ProcessorUnavailable("processor answered with a non-JSON body") from None
        if response.status_code >= 400 or not isinstance(data, dict) or "error" in data:
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            code = str(error.get("decline_code") or error.get("code") or "payment_failed")
            message = sanitize_text(
                str(error.get("message") or "the processor refused the payment")
            )
            raise ProcessorDeclined(code, message, response.status_code)
        if not isinstance(data.get("id"), str) or not isinstance(data.get("status"), str):
            raise ProcessorUnavailable("processor answered without a payment intent id")
        return PaymentIntentResult(
            id=data["id"],
            status=data["status"],
            amount=data.get("amount"),
            currency=data.get("currency"),
            replayed=response.headers.get("idempotent-replayed", "").lower() == "true",
        )

    # pympp's `stripe.charge(client=...)` duck type -------------------------------------

    @property
    def payment_intents(self) -> _PympPaymentIntents:
        return _PympPaymentIntents(self)


class _PympPaymentIntents:
    def __init__(self, processor: WalletProcessor) -> None:
        self._processor = processor

    async def create_async(self, params: dict[str, Any], options: dict[str, Any] | None = None):
        options = options or {}
        result = await self._processor.create_payment_intent(
            amount=int(params["amount"]),
            currency=str(params["currency"]),
            spt=str(params["shared_payment_granted_token"]),
            idempotency_key=str(options.get("idempotency_key") or ""),
            metadata={str(k): str(v) for k, v in (params.get("metadata") or {}).items()},
        )
        return _PympIntent(result)


class _PympIntent:
    def __init__(self, result: PaymentIntentResult) -> None:
        self.id = result.id
        self.status = result.status
