"""The documented merchant normalisation (wallet/decide/merchant.py), case by case."""

from __future__ import annotations

import pytest

from linkpay.wallet.decide.merchant import merchant_matches, normalize_name, url_host


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("The Acme Books, Inc.", "acmebooks"),
        ("SQ *Café Olé", "cafeole"),
        ("PAYPAL *ACME-BOOKS LLC", "acmebooks"),
        ("Barnes & Noble", "barnesandnoble"),
        ("acmebooks.com", "acmebooks"),
        ("The", "the"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_name(raw: str | None, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_url_host_ignores_scheme_port_path_and_www() -> None:
    assert url_host("https://WWW.Shop.Example:8443/checkout?x=1") == "shop.example"
    assert url_host("shop.example/path") == "shop.example"
    assert url_host("ftp://shop.example") is None
    assert url_host("") is None


def _match(name: str | None, url: str | None, seen: str | None, seen_url: str | None) -> bool:
    return merchant_matches(approved_name=name, approved_url=url, seen_name=seen, seen_url=seen_url)


def test_urls_decide_when_both_are_known() -> None:
    assert _match("Acme", "https://pay.acme.example/x", "ANYTHING", "https://acme.example")
    assert not _match("Acme", "https://acme.example", "ACME", "https://pay.acme.example")
    assert not _match("Acme", "https://acme.example", "ACME", "https://acme.example.evil.test")


def test_names_equal_after_normalising_or_a_truncated_prefix() -> None:
    assert _match("The Acme Books, Inc.", None, "ACME BOOKS", None)
    assert _match("Acme Books and Stationery Emporium", None, "ACME BOOKS AND STATION", None)
    assert not _match("Acme Books", None, "ACME", None)  # too short to be a truncation
    assert not _match("Acme Books", None, "ZENITH BOOKS", None)


def test_descriptor_against_the_approved_host_and_back() -> None:
    assert _match(None, "https://acme-books.example", "ACME BOOKS", None)
    assert _match("Acme Books", None, None, "https://www.acmebooks.example")
    assert not _match(None, "https://acme.example", None, None)
