"""Merchants on the test network: API keys, network profile ids, and the merchant rule.

A merchant authenticates with `Authorization: Bearer sk_test_…` (or HTTP Basic with the
key as user name, the way Stripe clients and pympp send it). Keys are stored as their
SHA-256 only; the plaintext is shown once, at creation. The merchant's `profile_…`
network id is what shared-payment-token spend requests name as `network_id`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.ids import new_id
from linkpay.wallet.store.models import Merchant

API_KEY_PREFIX = "sk_test_"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def create_merchant(session: Session, *, name: str, url: str | None = None) -> tuple[Merchant, str]:
    """Register a merchant; returns the row and its API key (plaintext, shown once)."""
    name = name.strip()
    if not name:
        raise ValueError("merchant name must not be empty")
    if url is not None and merchant_host(url) is None:
        raise ValueError("merchant url must be an http(s) URL with a host")
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    merchant = Merchant(
        id=new_id("mer"),
        name=name,
        url=url,
        api_key_hash=hash_api_key(api_key),
        network_id=new_id("profile"),
    )
    session.add(merchant)
    session.flush()
    return merchant, api_key


def api_key_from_header(authorization: str | None) -> str | None:
    """The key from `Bearer <key>` or `Basic base64(<key>:)`; None if absent/garbled."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def authenticate_merchant(session: Session, api_key: str | None) -> Merchant | None:
    if not api_key or not api_key.startswith(API_KEY_PREFIX):
        return None
    return session.scalars(
        select(Merchant).where(Merchant.api_key_hash == hash_api_key(api_key))
    ).first()


def merchant_host(url: str | None) -> str | None:
    """Lower-case host of an http(s) URL without a leading `www.`; None if there is none."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def merchant_matches(merchant: Merchant, merchant_url: str | None) -> bool:
    """The merchant rule for card charges: the spend request's `merchant_url` host must
    be the charging merchant's registered host or one of its subdomains (a merchant
    registered as `shop.example` may charge for `checkout.shop.example`, never the
    other way round). Scheme, port, path and a leading `www.` are ignored. A merchant
    registered without a URL cannot take card charges for any spend request."""
    own = merchant_host(merchant.url)
    wanted = merchant_host(merchant_url)
    if own is None or wanted is None:
        return False
    return wanted == own or wanted.endswith("." + own)
