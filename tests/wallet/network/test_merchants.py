"""Merchant keys and the merchant rule for card charges (no HTTP)."""

import base64
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from linkpay.wallet.network.merchants import (
    api_key_from_header,
    authenticate_merchant,
    create_merchant,
    hash_api_key,
    merchant_matches,
)
from linkpay.wallet.store.db import make_engine, make_sessionmaker
from linkpay.wallet.store.models import Base, Merchant


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    Base.metadata.create_all(engine)
    with make_sessionmaker(engine)() as s, s.begin():
        yield s
    engine.dispose()


def test_create_and_authenticate(session: Session) -> None:
    merchant, api_key = create_merchant(session, name="Shop", url="https://shop.example")
    assert merchant.id.startswith("mer_") and merchant.network_id.startswith("profile_")
    assert api_key.startswith("sk_test_") and merchant.api_key_hash == hash_api_key(api_key)
    assert api_key not in merchant.api_key_hash
    assert authenticate_merchant(session, api_key) is merchant
    assert authenticate_merchant(session, api_key + "x") is None
    assert authenticate_merchant(session, None) is None
    with pytest.raises(ValueError):
        create_merchant(session, name="  ")
    with pytest.raises(ValueError):
        create_merchant(session, name="Bad", url="ftp://shop.example")


def test_api_key_from_header() -> None:
    basic = base64.b64encode(b"sk_test_abc:").decode()
    assert api_key_from_header("Bearer sk_test_abc") == "sk_test_abc"
    assert api_key_from_header(f"Basic {basic}") == "sk_test_abc"
    assert api_key_from_header("Basic !!!") is None
    assert api_key_from_header("Token sk_test_abc") is None
    assert api_key_from_header(None) is None and api_key_from_header("Bearer ") is None


@pytest.mark.parametrize(
    ("registered", "requested", "expected"),
    [
        ("https://shop.example", "https://shop.example/checkout?x=1", True),
        ("https://shop.example", "http://WWW.Shop.Example:8080/cart", True),
        ("https://www.shop.example/", "https://shop.example", True),
        ("https://shop.example", "https://checkout.shop.example/pay", True),
        ("https://checkout.shop.example", "https://shop.example", False),
        ("https://shop.example", "https://evilshop.example", False),
        ("https://shop.example", "https://shop.example.evil.test", False),
        ("https://shop.example", None, False),
        (None, "https://shop.example", False),
        ("https://shop.example", "javascript:alert(1)", False),
    ],
)
def test_merchant_rule(registered: str | None, requested: str | None, expected: bool) -> None:
    merchant = Merchant(id="mer_1", name="Shop", url=registered, api_key_hash="x", network_id="p")
    assert merchant_matches(merchant, requested) is expected
