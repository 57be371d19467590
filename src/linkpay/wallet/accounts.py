"""People and their funding sources: the small service behind `link-wallet user
create` / `card add --test`, the embedded wallet's helpers and the web app.

A funding source keeps only display data (brand, last4, expiry): the wallet never
needs the person's real card number, it issues one-time virtual cards.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet.errors import Conflict, InvalidRequest, NotFound
from linkpay.wallet.ids import new_id
from linkpay.wallet.store.models import PaymentMethod, User

# Stripe's public test cards (brand, last4, nickname); stored as brand + last4 only.
TEST_CARDS = [
    ("visa", "4242", "Test Visa"),
    ("mastercard", "4444", "Test Mastercard"),
    ("amex", "0005", "Test American Express"),
    ("discover", "1117", "Test Discover"),
]
TEST_CARD_BRAND, TEST_CARD_LAST4, _ = TEST_CARDS[0]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidRequest("email: not an email address", param="email")
    return email


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def create_user(session: Session, *, email: str, name: str | None = None) -> User:
    """A new person. An email already in use → 409 `conflict`."""
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise Conflict(f"A user with email {email} already exists")
    name = (name or "").strip() or None
    first = last = None
    if name:
        first, _, rest = name.partition(" ")
        last = rest or None
    user = User(id=new_id("usr"), email=email, name=name, first_name=first, last_name=last)
    session.add(user)
    session.flush()
    return user


def ensure_user(session: Session, *, email: str, name: str | None = None) -> User:
    """The person with this email, created if missing (used for the local owner)."""
    return find_user_by_email(session, email) or create_user(session, email=email, name=name)


def add_test_card(
    session: Session,
    *,
    user_id: str,
    make_default: bool | None = None,
    brand: str | None = None,
) -> PaymentMethod:
    """Add one of Stripe's public test cards as a funding source: `brand` when given,
    else the first (Visa 4242 first) not in the wallet yet. The same card twice is
    refused (409 `duplicate_payment_method`). It becomes the default when the person
    has no default yet (or when `make_default`)."""
    from linkpay.wallet.payment_methods import active_methods, record_added, refuse_duplicate

    if session.get(User, user_id) is None:
        raise NotFound("No such user")
    present = {(m.brand, m.last4) for m in active_methods(session, user_id)}
    if brand is not None:
        choices = [card for card in TEST_CARDS if card[0] == brand]
        if not choices:
            known = ", ".join(card[0] for card in TEST_CARDS)
            raise InvalidRequest(f"brand: one of {known}", param="brand")
    else:
        choices = [card for card in TEST_CARDS if card[:2] not in present] or TEST_CARDS[:1]
    card_brand, last4, nickname = choices[0]
    refuse_duplicate(session, user_id, brand=card_brand, last4=last4)
    has_default = any(m.is_default for m in active_methods(session, user_id))
    default = (not has_default) if make_default is None else make_default
    if default and has_default:
        session.execute(
            update(PaymentMethod).where(PaymentMethod.user_id == user_id).values(is_default=False)
        )
    method = PaymentMethod(
        id=new_id("csmrpd"),
        user_id=user_id,
        type="card",
        is_default=default,
        nickname=nickname,
        brand=card_brand,
        last4=last4,
        exp_month=12,
        exp_year=datetime.now(UTC).year + 3,
    )
    session.add(method)
    session.flush()
    record_added(session, method)
    return method
