"""Stripe as issuer: Issuing virtual cards and shared payment tokens, via the official
`stripe` SDK.

- One cardholder per person (individual, billing address from their profile), created
  once and remembered by the wallet (`issuer_cardholders`).
- Each approved card request gets one virtual card: `spending_limits` of the approved
  amount (`all_time` and `per_authorization`), the request's currency,
  `metadata.spend_request_id`, and `cancel_after.payment_count = 1`.
- Number and CVC are fetched (`expand[]=number&expand[]=cvc`) only on reveal.
- Shared payment tokens: `POST /v1/shared_payment/issued_tokens` (a preview API without
  a typed SDK resource, so through `raw_request`), revoked with `…/revoke`.
- Every POST carries the wallet's idempotency key (spend request id + action).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe

from linkpay.wallet.issuing.base import (
    Cardholder,
    CardSecrets,
    IssuedCard,
    IssuedToken,
    IssuerRejected,
    OpenCredential,
)
from linkpay.wallet.issuing.retry import call_with_retries

log = logging.getLogger("linkpay.wallet.issuing")
NAME = "stripe"
API_VERSION = "2026-10-28.endive"
_PAGE = 100
_TAG = "spend_request_id"


def is_live_key(secret_key: str) -> bool:
    """Stripe's rule: `sk_test_` / `rk_test_` keys are test mode, the rest live."""
    return not secret_key.startswith(("sk_test_", "rk_test_"))


def verify_event(payload: bytes, signature: str, secret: str) -> Any:
    """Verify `Stripe-Signature` (5-minute tolerance) and parse the event; raises
    `stripe.SignatureVerificationError` or `ValueError` (not JSON)."""
    return stripe.Webhook.construct_event(payload, signature, secret, tolerance=300)


SignatureError = stripe.SignatureVerificationError


class StripeIssuer:
    name = NAME

    def __init__(self, secret_key: str, *, api_base: str | None = None) -> None:
        self.livemode = is_live_key(secret_key)
        options: dict[str, Any] = {"max_network_retries": 0}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(secret_key, **options)

    def __repr__(self) -> str:  # never the key
        return f"StripeIssuer(livemode={self.livemode})"

    def _call(self, action: str, call: Any) -> Any:
        return call_with_retries("Stripe", action, call)

    def ensure_cardholder(self, cardholder: Cardholder, idempotency_key: str) -> str:
        if cardholder.ref:
            return cardholder.ref
        address = {
            k: cardholder.billing_address.get(k)
            for k in ("line1", "line2", "city", "state", "postal_code", "country")
            if cardholder.billing_address.get(k)
        }
        if not all(address.get(k) for k in ("line1", "city", "postal_code", "country")):
            raise IssuerRejected(
                "Stripe needs a billing address for the cardholder: add one to your "
                "profile (street, city, postal code, country), then approve again"
            )
        params = {
            "type": "individual",
            "name": cardholder.name or (cardholder.email or "Cardholder").split("@")[0],
            "email": cardholder.email,
            "billing": {"address": address},
        }
        created = self._call(
            "create the cardholder",
            lambda: self._client.v1.issuing.cardholders.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )
        return str(created.id)

    def issue_card(
        self,
        *,
        credential_id: str,
        spend_request_id: str,
        amount: int,
        currency: str,
        merchant_name: str | None,
        merchant_url: str | None,
        cardholder: Cardholder,
        valid_until: datetime,
        idempotency_key: str,
    ) -> IssuedCard:
        holder = self.ensure_cardholder(cardholder, f"{cardholder.email}:cardholder")
        params = {
            "cardholder": holder,
            "currency": currency.lower(),
            "type": "virtual",
            "status": "active",
            "spending_controls": {
                "spending_limits": [
                    {"amount": amount, "interval": "all_time"},
                    {"amount": amount, "interval": "per_authorization"},
                ]
            },
            "lifecycle_controls": {"cancel_after": {"payment_count": 1}},
            "metadata": {"spend_request_id": spend_request_id},
        }
        card = self._create_card(params, idempotency_key)
        address = dict(cardholder.billing_address)
        address["name"] = cardholder.name
        return IssuedCard(
            issuer_ref=str(card.id),
            brand=str(card.brand or "visa").lower(),
            secrets=None,
            billing_address=address,
            last4=str(card.last4),
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
            cardholder_ref=None if cardholder.ref else holder,
        )

    def _create_card(self, params: dict[str, Any], idempotency_key: str) -> Any:
        """Create the card; if the key replays a card that was closed since (reconcile
        closed the orphan of a crashed attempt), a new attempt gets a fresh key."""
        for attempt in range(1, 4):
            key = idempotency_key if attempt == 1 else f"{idempotency_key}:{attempt}"
            card = self._call(
                "create the card",
                lambda key=key: self._client.v1.issuing.cards.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": key},
                ),
            )
            replayed = card.last_response is not None and (
                card.last_response.headers.get("Idempotent-Replayed") == "true"
            )
            if replayed:  # the stored answer is from then: is the card still open now?
                card_id = str(card.id)
                card = self._call(
                    "read the card", lambda c=card_id: self._client.v1.issuing.cards.retrieve(c)
                )
            if card.status == "active":
                return card
        raise IssuerRejected("Stripe keeps returning a canceled card for this request")

    def issue_shared_payment_token(
        self,
        *,
        spend_request_id: str,
        network_id: str,
        amount: int,
        currency: str,
        valid_until: datetime,
        idempotency_key: str,
        payment_method_ref: str | None = None,
    ) -> IssuedToken:
        if not payment_method_ref:
            raise IssuerRejected(
                "Stripe shared payment tokens need a card saved with Stripe: add one on "
                "the payment methods page, then approve again"
            )
        params = {
            "payment_method": payment_method_ref,
            "seller_details": {"network_business_profile": network_id},
            "usage_limits": {
                "currency": currency.lower(),
                "max_amount": amount,
                "expires_at": int(valid_until.timestamp()),
            },
            "metadata": {"spend_request_id": spend_request_id},
        }
        token = self._raw("post", "/v1/shared_payment/issued_tokens", idempotency_key, params)
        return IssuedToken(token_id=str(token["id"]), issuer_ref=str(token["id"]))

    def _raw(
        self, method: str, path: str, idempotency_key: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"stripe_version": API_VERSION}
        if idempotency_key:
            extra["idempotency_key"] = idempotency_key
        response = self._call(
            f"{method} {path}", lambda: self._client.raw_request(method, path, **params, **extra)
        )
        return self._client.deserialize(response, api_mode="V1").to_dict()

    # ---- saving the person's card as a Stripe PaymentMethod (for SPTs) ----------
    def create_customer(self, *, email: str | None, name: str | None, user_id: str) -> str:
        customer = self._call(
            "create the customer",
            lambda: self._client.v1.customers.create(
                params={"email": email or "", "name": name or "", "metadata": {"user": user_id}},
                options={"idempotency_key": f"{user_id}:customer"},
            ),
        )
        return str(customer.id)

    def create_setup_intent(self, customer_ref: str, user_id: str) -> tuple[str, str]:
        """A SetupIntent the Payment Element confirms; returns (id, client_secret)."""
        params: dict[str, Any] = {
            "customer": customer_ref,
            "payment_method_types": ["card"],
            "usage": "off_session",
            "metadata": {"user": user_id},
        }
        intent = self._call(
            "start saving a card",
            lambda: self._client.v1.setup_intents.create(params=params),  # type: ignore[arg-type]
        )
        return str(intent.id), str(intent.client_secret)

    def saved_card(self, setup_intent_id: str) -> dict[str, Any]:
        """The confirmed SetupIntent's card: customer, PaymentMethod id and display
        data (brand, last4, expiry). IssuerRejected unless the intent succeeded."""
        intent = self._call(
            "read the SetupIntent",
            lambda: self._client.v1.setup_intents.retrieve(setup_intent_id),
        )
        if intent.status != "succeeded" or not intent.payment_method:
            raise IssuerRejected("Stripe has not confirmed this card yet")
        pm_id = str(intent.payment_method)
        method = self._call(
            "read the PaymentMethod", lambda: self._client.v1.payment_methods.retrieve(pm_id)
        )
        card = method.card
        metadata = intent.metadata.to_dict() if intent.metadata else {}
        return {
            "user": metadata.get("user"),
            "customer": str(intent.customer),
            "payment_method": pm_id,
            "brand": str(card.brand),
            "last4": str(card.last4),
            "exp_month": int(card.exp_month),
            "exp_year": int(card.exp_year),
        }

    def reveal(self, issuer_ref: str) -> CardSecrets:
        card = self._call(
            "read the card",
            lambda: self._client.v1.issuing.cards.retrieve(
                issuer_ref, params={"expand": ["number", "cvc"]}
            ),
        )
        return CardSecrets(
            number=str(card.number),
            cvc=str(card.cvc),
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
        )

    def void(self, issuer_ref: str, *, idempotency_key: str | None = None) -> None:
        if issuer_ref.startswith("spt_"):
            path = f"/v1/shared_payment/issued_tokens/{issuer_ref}/revoke"
            self._raw("post", path, idempotency_key, {})
            return
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        self._call(
            "cancel the card",
            lambda: self._client.v1.issuing.cards.update(
                issuer_ref,
                params={"status": "canceled"},
                options=options,  # type: ignore[arg-type]
            ),
        )

    def check(self) -> None:
        """One cheap read, to prove the key works (used when connecting)."""
        self._call("list cards", lambda: self._client.v1.issuing.cards.list(params={"limit": 1}))

    def open_credentials(self) -> list[OpenCredential]:
        cards = self._call(
            "list cards",
            lambda: list(
                self._client.v1.issuing.cards.list(
                    params={"status": "active", "limit": _PAGE}
                ).auto_paging_iter()
            ),
        )
        found = [
            OpenCredential(
                str(c.id),
                "card",
                (c.metadata.to_dict() if c.metadata else {}).get(_TAG),
                datetime.fromtimestamp(int(c.created), UTC),
            )
            for c in cards
        ]
        try:
            tokens = self._raw(
                "get",
                "/v1/shared_payment/issued_tokens",
                None,
                {"status": "active", "limit": _PAGE},
            )
        except IssuerRejected as error:  # an account without the SPT preview: cards only
            log.warning("not listing shared payment tokens: %s", error)
            return found
        for token in tokens.get("data", []):
            metadata = token.get("metadata") or {}
            created = token.get("created")
            found.append(
                OpenCredential(
                    str(token["id"]),
                    "shared_payment_token",
                    metadata.get(_TAG),
                    # Without it a token issued a moment ago, its commit still in flight
                    # on another worker, would look like an old orphan and be revoked.
                    datetime.fromtimestamp(int(created), UTC) if created else None,
                )
            )
        return found
