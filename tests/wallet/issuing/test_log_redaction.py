"""The log filter: Luhn-valid digit runs and secret values never reach a handler."""

import logging

import pytest

from linkpay.wallet.logging import (
    PAN_MASK,
    REDACTED,
    RedactingFilter,
    install_redaction,
    redact_text,
    redact_value,
)

PAN = "4000001234567899"


@pytest.mark.parametrize(
    "text",
    [
        f"card {PAN} declined",
        "card 4000 0012 3456 7899 declined",
        "card 4000-0012-3456-7899 declined",
        f'{{"number": "{PAN}"}}',
        f"number={PAN}&cvc=123",
    ],
)
def test_pans_are_masked(text: str) -> None:
    scrubbed = redact_text(text)
    assert "7899" not in scrubbed and "4000" not in scrubbed


def test_hashes_keep_their_luhn_valid_digit_runs() -> None:
    # An approval hash (64 hex characters) can hold a Luhn-valid run of digits; masking
    # it would break the audit chain's record of what was approved.
    approval_hash = "0eb34429b915aa06e" + PAN + "c5140" + "ab" * 12
    assert redact_text(approval_hash) == approval_hash
    assert redact_value({"approval_hash": approval_hash}) == {"approval_hash": approval_hash}
    # A card number glued to a few letters is still a card number.
    assert PAN not in redact_text(f"card{PAN}x")
    assert PAN not in redact_text(f"ab{PAN}")


def test_non_luhn_numbers_survive() -> None:
    assert redact_text("order 4000001234567898 shipped") == "order 4000001234567898 shipped"
    assert redact_text("id 12345") == "id 12345"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"cvc": "123", "amount": 100}', "123"),
        ("cvc=987&amount=5", "987"),
        ("access_token=lk_at_abcdef0123", "lk_at_abcdef0123"),
        ("'refresh_token': 'r3fr3sh'", "r3fr3sh"),
        ("device_code: dc_secret_value", "dc_secret_value"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("api_key=sk_test_Zm9vYmFy", "sk_test_Zm9vYmFy"),
        ("merchant key sk_test_Zm9vYmFy used", "Zm9vYmFy"),
        ("token spt_AbC123xyz sent", "AbC123xyz"),
        ("password=hunter2", "hunter2"),
        ('"GET /signin/LGzAePp6lr1wGwqIsYhB2fb9 HTTP/1.1" 200', "LGzAePp6lr1wGwqIsYhB2fb9"),
        ('"GET /device?code=otter-igloo-camel HTTP/1.1" 200', "otter-igloo-camel"),
    ],
)
def test_keyed_secrets_are_masked(text: str, secret: str) -> None:
    scrubbed = redact_text(text)
    assert secret not in scrubbed and REDACTED in scrubbed


def test_structures_are_scrubbed_by_key_and_value() -> None:
    value = {
        "CVC": "123",
        "card": {"number": PAN, "last4": "7899"},
        "notes": [f"paid with {PAN}"],
        "amount": 1200,
        "raw": int(PAN),
    }
    scrubbed = redact_value(value)
    assert scrubbed["CVC"] == REDACTED and scrubbed["card"]["number"] == REDACTED
    assert scrubbed["card"]["last4"] == "7899" and scrubbed["amount"] == 1200
    assert scrubbed["notes"] == [f"paid with {PAN_MASK}"] and scrubbed["raw"] == PAN_MASK


def _record(msg: object, args: object = (), exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


def test_filter_scrubs_message_args_and_traceback() -> None:
    try:
        raise ValueError(f"bad card {PAN}")
    except ValueError:
        import sys

        record = _record("charging %s with cvc=%s (%d)", (PAN, "123", 5), sys.exc_info())
    assert RedactingFilter().filter(record) is True
    formatted = logging.Formatter().format(record)
    assert PAN not in formatted and "cvc=123" not in formatted and "(5)" in formatted
    mapping = _record("%(who)s paid %(number)s", {"who": "ada", "number": PAN})
    RedactingFilter().filter(mapping)
    assert mapping.getMessage() == f"ada paid {REDACTED}"


def test_install_redaction_covers_every_logger(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    install_redaction()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("linkpay.test.access").info(
            '%s "%s %s"', "127.0.0.1", "GET", f"/x?n={PAN}"
        )
        logging.getLogger("some.library.deep").warning("payload %r", {"cvc": "456", "n": PAN})
        logging.getLogger("linkpay").info("Authorization: Bearer lk_at_s3cr3t")
    text = caplog.text
    assert PAN not in text and "456" not in text and "lk_at_s3cr3t" not in text
    assert "GET" in text and "127.0.0.1" in text
