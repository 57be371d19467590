"""Luhn arithmetic and the test issuer's numbers (property-based)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from linkpay.cards import luhn_check_digit, luhn_valid
from linkpay.wallet.issuing.base import Cardholder
from linkpay.wallet.issuing.test_issuer import TEST_BIN, TestIssuer, generate_card_number

KNOWN_VALID = ["4242424242424242", "4000056655665556", "5555555555554444", "378282246310005"]
KNOWN_INVALID = ["4242424242424241", "1234567812345678", "4000056655665555"]


def test_known_numbers() -> None:
    assert all(luhn_valid(n) for n in KNOWN_VALID)
    assert not any(luhn_valid(n) for n in KNOWN_INVALID)
    assert not luhn_valid("") and not luhn_valid("42a2") and not luhn_valid("7")


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_check_digit_makes_any_payload_valid(payload: str) -> None:
    assert luhn_valid(payload + luhn_check_digit(payload))


@given(
    st.text(alphabet="0123456789", min_size=12, max_size=18),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_error_is_caught(payload: str, where: int, delta: int) -> None:
    number = payload + luhn_check_digit(payload)
    index = where % len(number)
    changed = number[:index] + str((int(number[index]) + delta) % 10) + number[index + 1 :]
    assert not luhn_valid(changed)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=2**32))
def test_generated_numbers_are_valid_test_range_visa(_: int) -> None:
    number = generate_card_number()
    assert len(number) == 16 and number.startswith(TEST_BIN) and luhn_valid(number)


def test_generated_numbers_are_random_enough() -> None:
    numbers = {generate_card_number() for _ in range(2000)}
    assert len(numbers) >= 1995  # 10^9 bodies: a collision or two at most, never a pattern


def test_issued_card_shape() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    card = TestIssuer(now=now).issue_card(
        credential_id="ic_1",
        spend_request_id="lsrq_1",
        amount=1000,
        currency="usd",
        merchant_name="Shop",
        merchant_url="https://shop.example",
        cardholder=Cardholder(name="Ada", email=None, billing_address={}),
        valid_until=now + timedelta(hours=12),
        idempotency_key="lsrq_1:card",
    )
    assert card.brand == "visa" and luhn_valid(card.secrets.number)
    assert len(card.secrets.cvc) == 3 and card.secrets.cvc.isdigit()
    assert (card.secrets.exp_year, card.secrets.exp_month) == (2027, 2)
    assert card.billing_address["name"] == "Ada" and card.billing_address["postal_code"]
    assert card.secrets.number not in repr(card) and "cvc=" not in repr(card.secrets)
