"""The checkout's card form: what a shopper (or an agent) types, validated the way a
real checkout would before anything is sent to the card network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from linkpay.cards import luhn_valid  # the same check the test network runs


@dataclass(frozen=True)
class CardEntry:
    """What the shopper typed, validated. Never printed: the repr shows last4 only."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    name: str
    postcode: str

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:
        return f"CardEntry(last4={self.last4!r}, exp={self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__


def parse_expiry(raw: str) -> tuple[int, int] | None:
    """Accept `MM/YY`, `MM / YY`, `MM/YYYY` and `MMYY`; return (month, four-digit year)."""
    text = raw.replace(" ", "")
    if "/" in text:
        month_text, _, year_text = text.partition("/")
    elif text.isdigit() and len(text) in (4, 6):
        month_text, year_text = text[:2], text[2:]
    else:
        return None
    if not (month_text.isdigit() and year_text.isdigit()) or len(year_text) not in (2, 4):
        return None
    month, year = int(month_text), int(year_text)
    if len(year_text) == 2:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return month, year


def parse_card_form(
    form: Mapping[str, str], *, today: datetime | None = None
) -> tuple[CardEntry | None, dict[str, str]]:
    """Validate the card fields; return the entry or per-field error messages."""
    errors: dict[str, str] = {}
    number = "".join(str(form.get("number", "")).split()).replace("-", "")
    if not number:
        errors["number"] = "Enter your card number."
    elif not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_valid(number):
        errors["number"] = "This card number is not valid."
    expiry = parse_expiry(str(form.get("expiry", "")))
    now = today or datetime.now(UTC)
    if expiry is None:
        errors["expiry"] = "Enter the expiry date as MM / YY."
    elif (expiry[1], expiry[0]) < (now.year, now.month):
        errors["expiry"] = "This card has expired."
    cvc = str(form.get("cvc", "")).strip()
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        errors["cvc"] = "Enter the 3 or 4 digit security code."
    name = " ".join(str(form.get("name", "")).split())
    if not name:
        errors["name"] = "Enter the name on the card."
    elif len(name) > 100:
        errors["name"] = "The name is too long (100 characters at most)."
    postcode = " ".join(str(form.get("postcode", "")).split()).upper()
    if not postcode:
        errors["postcode"] = "Enter the billing postcode."
    elif len(postcode) > 10 or not postcode.replace(" ", "").replace("-", "").isalnum():
        errors["postcode"] = "This postcode is not valid."
    if errors or expiry is None:
        return None, errors
    return CardEntry(number, expiry[0], expiry[1], cvc, name, postcode), {}
