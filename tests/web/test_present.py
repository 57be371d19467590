"""How amounts and outside text are shown: figures and words per currency exponent,
inert text, ASCII domains, and the add-up check of the approval page."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkpay.money import format_money, money_in_words, number_in_words
from linkpay.text import clean_text
from linkpay.wallet.web.approval_view import _line_views, consistency_problems
from linkpay.wallet.web.http import safe_next
from linkpay.wallet.web.present import domain_of
from linkpay.wallet.web.sessions import _token_matches, csrf_token_for


@pytest.mark.parametrize(
    ("amount", "currency", "figures", "words"),
    [
        (2599, "usd", "$25.99 USD", "twenty-five US dollars and ninety-nine cents"),
        (100, "usd", "$1.00 USD", "one US dollar"),
        (1, "eur", "€0.01 EUR", "one cent"),
        (50000, "gbp", "£500.00 GBP", "five hundred pounds sterling"),
        (1500, "jpy", "¥1,500 JPY", "one thousand five hundred Japanese yen"),
        (12345, "kwd", "12.345 KWD", "12.345 in KWD"),
        (
            123456789,
            "usd",
            "$1,234,567.89 USD",
            "one million two hundred thirty-four thousand five hundred sixty-seven US dollars and "
            "eighty-nine cents",
        ),
    ],
)
def test_money_in_figures_and_words(amount: int, currency: str, figures: str, words: str) -> None:
    assert format_money(amount, currency) == figures
    assert money_in_words(amount, currency) == words


@given(st.integers(min_value=0, max_value=10**12))
def test_number_words_are_unambiguous(n: int) -> None:
    text = number_in_words(n)
    assert text and "  " not in text and not text.endswith(" ")
    assert text.replace("-", " ").replace(" ", "").isalpha()


def test_clean_text_removes_escapes_controls_and_bidi() -> None:
    dirty = "\x1b[31mRed\x1b[0m \x1b]8;;https://evil\x07link\x1b]8;;\x07 \u202eevil\u202c\x00!"
    assert clean_text(dirty) == "Red link evil!"
    assert clean_text("line one\nline two\ttab") == "line one\nline two\ttab"
    assert clean_text(None) == ""


def test_domains_shown_in_ascii() -> None:
    assert domain_of("https://Shop.Example/path?q=1") == "shop.example"
    assert domain_of("https://аpple.com/") == "xn--pple-43d.com"  # Cyrillic а
    assert domain_of("not a url") is None
    assert domain_of(None) is None


def test_add_up_check() -> None:
    lines = _line_views(
        [{"name": "A", "quantity": 2, "unit_amount": 1000}, {"name": "B", "unit_amount": 500}]
    )
    ok = [
        {"type": "subtotal", "amount": 2500},
        {"type": "tax", "amount": 200},
        {"type": "shipping", "amount": 300},
        {"type": "discount", "amount": -500},
        {"type": "total", "amount": 2500},
    ]
    assert consistency_problems(2500, "usd", lines, ok) == []
    bad_subtotal = [{"type": "subtotal", "amount": 2000}, {"type": "total", "amount": 2000}]
    problems = consistency_problems(2000, "usd", lines, bad_subtotal)
    assert any("line items add up to $25.00 USD" in p for p in problems)
    assert consistency_problems(9999, "usd", lines, []) == [
        "The items and charges add up to $25.00 USD, but the request is for $99.99 USD. "
        "You would approve $99.99 USD."
    ]
    unpriced = _line_views([{"name": "Mystery box"}])
    assert consistency_problems(9999, "usd", unpriced, []) == []


def test_csrf_tokens_and_redirect_targets() -> None:
    secret = "ab" * 32
    token = csrf_token_for(secret)
    assert _token_matches(token, token)
    assert not _token_matches(token, None) and not _token_matches(token, token[:-1] + "0")
    assert csrf_token_for("cd" * 32) != token
    assert safe_next("/approve/lsrq_1?x=1") == "/approve/lsrq_1?x=1"
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example", "", None):
        assert safe_next(evil) == "/"
