"""People and their funding sources: the small service behind `link-wallet user
create` / `card add --test`, the embedded wallet's helpers and the web app.

A funding source keeps only display data (brand, last4, expiry): the wallet never
needs the person's real card number, it issues one-time virtual cards.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linkpay.wallet.errors import ApiException
from linkpay.wallet.ids import new_id
from linkpay.wallet.store.models import PaymentMethod, User

# Stripe's public test card; stored as brand + last4 only.
TEST_CARD_BRAND = "visa"
TEST_CARD_LAST4 = "4242"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise ApiException(400, "invalid_request", "email: not an email address", param="email")
    return email


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def create_user(session: Session, *, email: str, name: str | None = None) -> User:
    """A new person. An email already in use → 409 `conflict`."""
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise ApiException(409, "conflict", f"A user with email {email} already exists")
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
    session: Session, *, user_id: str, make_default: bool | None = None
) -> PaymentMethod:
    """Add Stripe's test card (4242 4242 4242 4242) as a funding source. It becomes the
    default when the person has no default yet (or when `make_default`)."""
    if session.get(User, user_id) is None:
        raise ApiException(404, "not_found", "No such user")
    has_default = session.scalars(
        select(func.count())
        .select_from(PaymentMethod)
        .where(PaymentMethod.user_id == user_id, PaymentMethod.is_default.is_(True))
    ).one()
    default = (not has_default) if make_default is None else make_default
    if default and has_default:
        session.execute(
            update(PaymentMethod).where(PaymentMethod.user_id == user_id).values(is_default=False)
        )
    now = datetime.now(UTC)
    method = PaymentMethod(
        id=new_id("csmrpd"),
        user_id=user_id,
        type="card",
        is_default=default,
        nickname="Test Visa",
        brand=TEST_CARD_BRAND,
        last4=TEST_CARD_LAST4,
        exp_month=12,
        exp_year=now.year + 3,
    )
    session.add(method)
    session.flush()
    return method
