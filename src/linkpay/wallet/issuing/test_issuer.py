"""The built-in test issuer: real-looking, unusable-in-the-world credentials.

Card numbers are 16-digit Visa-range numbers under the test BIN `400000` (the range
Stripe documents for test cards; no live card is ever issued from it) with 9 random
digits and a Luhn check digit, drawn from `secrets`. Uniqueness is enforced by the
wallet (fingerprint column, retried on a collision in `issuing.service`). CVCs are 3
random digits; the printed expiry is a few months out, while the credential itself is
valid only until `valid_until` (hours). Shared payment tokens are `spt_` + 24 random
base62 characters.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from linkpay.cards import luhn_check_digit
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.base import (
    Cardholder,
    CardSecrets,
    IssuedCard,
    IssuedToken,
    OpenCredential,
)

TEST_BIN = "400000"
CARD_LENGTH = 16
EXPIRY_MONTHS_AHEAD = 3
TEST_BILLING_ADDRESS = {
    "line1": "510 Test Street",
    "line2": None,
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94103",
    "country": "US",
}


def _add_months(moment: datetime, months: int) -> tuple[int, int]:
    index = moment.year * 12 + (moment.month - 1) + months
    return index % 12 + 1, index // 12


def generate_card_number(bin_prefix: str = TEST_BIN, length: int = CARD_LENGTH) -> str:
    """A random Luhn-valid number of `length` digits starting with `bin_prefix`."""
    body_length = length - len(bin_prefix) - 1
    if body_length < 1 or not bin_prefix.isdigit():
        raise ValueError("bin_prefix must be digits and shorter than the card length")
    body = "".join(str(secrets.randbelow(10)) for _ in range(body_length))
    payload = bin_prefix + body
    return payload + luhn_check_digit(payload)


def generate_cvc() -> str:
    return f"{secrets.randbelow(1000):03d}"


class TestIssuer:
    """`Issuer` for test mode. Stateless: the wallet database is its ledger."""

    __test__ = False  # not a pytest test class
    name = "test"
    livemode = False

    def __init__(self, bin_prefix: str = TEST_BIN, *, now: datetime | None = None) -> None:
        self.bin_prefix = bin_prefix
        self._now = now

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
        now = self._now or datetime.now(UTC)
        exp_month, exp_year = _add_months(now, EXPIRY_MONTHS_AHEAD)
        card = CardSecrets(
            number=generate_card_number(self.bin_prefix),
            cvc=generate_cvc(),
            exp_month=exp_month,
            exp_year=exp_year,
        )
        address = {"name": cardholder.name, **TEST_BILLING_ADDRESS}
        address.update({k: v for k, v in cardholder.billing_address.items() if v})
        return IssuedCard(
            issuer_ref=credential_id,
            brand="visa",
            secrets=card,
            billing_address=address,
            last4=card.last4,
            exp_month=exp_month,
            exp_year=exp_year,
        )

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
        token_id = new_id("spt")
        return IssuedToken(token_id=token_id, issuer_ref=token_id)

    def reveal(self, issuer_ref: str) -> CardSecrets:
        raise LookupError("test cards live only in the wallet vault")

    def void(self, issuer_ref: str, *, idempotency_key: str | None = None) -> None:
        return None  # the credential row's status is the test issuer's whole state

    def open_credentials(self) -> list[OpenCredential]:
        return []  # nothing lives outside the wallet database

    def check(self) -> None:
        return None
