"""Lithic as issuer: `SINGLE_USE` virtual cards through the official `lithic` SDK.

Each approved card request gets one card with `spend_limit` = the approved amount,
`spend_limit_duration = TRANSACTION`, a memo naming the request and the tag
`spend_request_id`. Lithic's API takes no idempotency key, so before creating a card the
issuer looks for an open card already tagged with the request (created by an attempt
whose commit never happened) and reuses it; `reconcile` closes any card our records do
not know. Cards are paused or closed on the same events as Stripe cards are canceled.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import lithic

from linkpay.wallet.issuing.base import (
    Cardholder,
    CardSecrets,
    IssuedCard,
    IssuedToken,
    IssuerRejected,
    OpenCredential,
)
from linkpay.wallet.issuing.retry import call_with_retries

NAME = "lithic"
TAG = "spend_request_id"
_RECENT = timedelta(days=2)  # how far back a retry looks for its own card


@functools.lru_cache(maxsize=4)
def _verifier(secret: str) -> Any:
    """An SDK client used only to verify signatures (no request is ever sent with it);
    built once per secret, as a client costs milliseconds to make."""
    return lithic.Lithic(api_key="verify-only", webhook_secret=secret).webhooks


def verify_event(payload: bytes, headers: dict[str, str], secret: str) -> Any:
    """Verify the Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`; 5-minute tolerance) with the SDK and parse the JSON."""
    return _verifier(secret).unwrap(payload, headers)


class LithicIssuer:
    name = NAME

    def __init__(
        self, api_key: str, *, environment: str = "sandbox", base_url: str | None = None
    ) -> None:
        self.livemode = environment == "production"
        options: dict[str, Any] = {"max_retries": 0}
        if base_url:
            options["base_url"] = base_url
        else:
            options["environment"] = environment
        self._client = lithic.Lithic(api_key=api_key, **options)

    def __repr__(self) -> str:  # never the key
        return f"LithicIssuer(livemode={self.livemode})"

    def _call(self, action: str, call: Any) -> Any:
        return call_with_retries("Lithic", action, call)

    def _existing(self, spend_request_id: str) -> Any | None:
        begin = datetime.now(UTC) - _RECENT
        cards = self._call(
            "list cards", lambda: list(self._client.cards.list(state="OPEN", begin=begin))
        )
        return next((c for c in cards if (c.tags or {}).get(TAG) == spend_request_id), None)

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
        if currency.lower() != "usd":
            raise IssuerRejected("Lithic cards are issued in USD only")
        card = self._existing(spend_request_id) or self._call(
            "create the card",
            lambda: self._client.cards.create(
                type="SINGLE_USE",
                spend_limit=amount,
                spend_limit_duration="TRANSACTION",
                memo=f"linkpay {spend_request_id} {merchant_name or merchant_url or ''}"[:200],
                tags={TAG: spend_request_id},
            ),
        )
        address = dict(cardholder.billing_address)
        address["name"] = cardholder.name
        return IssuedCard(
            issuer_ref=str(card.token),
            brand="mastercard",
            secrets=None,
            billing_address=address,
            last4=str(card.last_four),
            exp_month=int(card.exp_month or 0),
            exp_year=int(card.exp_year or 0),
        )

    def issue_shared_payment_token(self, **_: Any) -> IssuedToken:
        raise IssuerRejected("Lithic does not issue shared payment tokens; connect Stripe")

    def reveal(self, issuer_ref: str) -> CardSecrets:
        card = self._call("read the card", lambda: self._client.cards.retrieve(issuer_ref))
        if not card.pan or not card.cvv:
            raise IssuerRejected("Lithic did not return the card number (no PCI access)")
        return CardSecrets(
            number=str(card.pan),
            cvc=str(card.cvv),
            exp_month=int(card.exp_month or 0),
            exp_year=int(card.exp_year or 0),
        )

    def pause(self, issuer_ref: str) -> None:
        self._call("pause the card", lambda: self._client.cards.update(issuer_ref, state="PAUSED"))

    def void(self, issuer_ref: str, *, idempotency_key: str | None = None) -> None:
        current = self._call("read the card", lambda: self._client.cards.retrieve(issuer_ref))
        if current.state == "CLOSED":
            return
        self._call("close the card", lambda: self._client.cards.update(issuer_ref, state="CLOSED"))

    def check(self) -> None:
        """One cheap read, to prove the key works (used when connecting)."""
        self._call("list cards", lambda: self._client.cards.list(page_size=1))

    def open_credentials(self) -> list[OpenCredential]:
        found: list[OpenCredential] = []
        for state in ("OPEN", "PAUSED"):
            cards = self._call(
                "list cards", lambda state=state: list(self._client.cards.list(state=state))
            )
            found += [
                OpenCredential(str(c.token), "card", (c.tags or {}).get(TAG), c.created)
                for c in cards
            ]
        return found
