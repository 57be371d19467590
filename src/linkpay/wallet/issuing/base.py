"""The issuer interface: where one-time credentials come from.

The wallet's services talk to an `Issuer`; the built-in `TestIssuer` is a full
implementation for test mode (Luhn-valid numbers from a test range, its own state kept
in the wallet database), and live issuers (Stripe Issuing, Lithic) plug
in behind the same methods. Whatever the issuer, the wallet keeps a card's number and
CVC only sealed in its vault (`wallet/crypto.py`) and reveals them only on an explicit
request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from linkpay.wallet.binding import Material


@dataclass(frozen=True)
class CardSecrets:
    """Number, CVC and expiry of a card. `repr` never shows the number or CVC."""

    number: str = field(repr=False)
    cvc: str = field(repr=False)
    exp_month: int
    exp_year: int

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "cvc": self.cvc,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> CardSecrets:
        return cls(
            number=str(value["number"]),
            cvc=str(value["cvc"]),
            exp_month=int(value["exp_month"]),
            exp_year=int(value["exp_year"]),
        )


@dataclass(frozen=True)
class Cardholder:
    """Who the card is for; the billing address printed on the card's details.
    `ref` is the issuer's cardholder id once one exists (Stripe: one per person)."""

    name: str | None
    email: str | None
    billing_address: dict[str, Any]
    ref: str | None = None


@dataclass(frozen=True)
class IssuedCard:
    """A new card. Live issuers hand back no secrets here (`secrets=None`): the number
    and CVC are fetched from the issuer only when the agent reveals the card."""

    issuer_ref: str  # the issuer's id for the card (the credential id for the test issuer)
    brand: str
    secrets: CardSecrets | None
    billing_address: dict[str, Any]
    last4: str = ""
    exp_month: int = 0
    exp_year: int = 0
    cardholder_ref: str | None = None  # a cardholder the issuer created for this card


@dataclass(frozen=True)
class OpenCredential:
    """A card or token still usable at the issuer, as reconcile sees it."""

    issuer_ref: str
    kind: str  # card | shared_payment_token
    spend_request_id: str | None
    created: datetime | None = None


class BoundRequest(Material, Protocol):
    """What a reveal reads of a request (the approval binding, the audit entry): a
    `SpendRequest`, or a row of its columns under the same names."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def approval_hash(self) -> str | None: ...
    @property
    def user_id(self) -> str: ...
    @property
    def token_family_id(self) -> str | None: ...


class HeldCredential(Protocol):
    """What a reveal reads of an issued credential: a `Credential`, or its columns
    read without the ORM (the batched long-poll answers)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def issuer_ref(self) -> str | None: ...
    @property
    def brand(self) -> str | None: ...
    @property
    def last4(self) -> str | None: ...
    @property
    def secret_ciphertext(self) -> str | None: ...
    @property
    def billing_address(self) -> dict[str, Any] | None: ...
    @property
    def approval_hash(self) -> str: ...
    @property
    def valid_until(self) -> datetime: ...


class IssuingError(RuntimeError):
    """The credential could not be issued or closed. `message` is for the person."""


class IssuerUnavailable(IssuingError):
    """The issuer did not answer (timeouts, 429 or 5xx after retries)."""


class IssuerRejected(IssuingError):
    """The issuer refused the call (4xx): a setup problem the person or operator fixes."""


@dataclass(frozen=True)
class IssuedToken:
    token_id: str  # spt_…
    issuer_ref: str


class Issuer(Protocol):
    """Issues, reveals and voids one-time credentials for approved spend requests.

    `idempotency_key` is derived from the spend request (`"{lsrq}:card"`), so a retried
    approval never yields a second live card at the issuer.
    """

    name: str
    livemode: bool

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
        """A single-use virtual card limited to `amount` in `currency`."""
        ...

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
        """A shared payment token (`spt_…`) redeemable once by the merchant owning
        `network_id`, for at most `amount` in `currency`, until `valid_until`."""
        ...

    def reveal(self, issuer_ref: str) -> CardSecrets:
        """Fetch a card's secrets from the issuer (live issuers that do not hand them
        over at issue time). The test issuer keeps none outside the wallet vault."""
        ...

    def void(self, issuer_ref: str, *, idempotency_key: str | None = None) -> None:
        """Close the credential (card or token) at the issuer so it can never be used."""
        ...

    def open_credentials(self) -> list[OpenCredential]:
        """Every card and token still open at the issuer (for reconcile)."""
        ...

    def check(self) -> None:
        """One cheap call proving the credentials work (raises `IssuingError`)."""
        ...
