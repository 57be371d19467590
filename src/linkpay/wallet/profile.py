"""The person's profile: name, phone and billing address.

The billing address is what issued cards carry (issuers print it on the card's
details, merchants may check it); without one the default shipping address stands in.
Shipping addresses live in `addresses.py`; this module validates with the same rules.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.addresses import clean_address, invalid
from linkpay.wallet.errors import InvalidRequest, NotFound
from linkpay.wallet.store.models import User

_PHONE = re.compile(r"^\+?[0-9 ()\-.]{5,30}$")


def get_user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


def _clean_name(name: str) -> str | None:
    text = " ".join(name.split())
    if len(text) > 200:
        raise invalid("name", "at most 200 characters")
    return text or None


def _clean_phone(phone: str) -> str | None:
    text = phone.strip()
    if text and not _PHONE.match(text):
        raise invalid("phone", "digits, spaces and + ( ) - only, like +1 415 555 0100")
    return text or None


def update_profile(
    db: Session,
    user_id: str,
    *,
    name: str | None = None,
    phone: str | None = None,
    billing_address: dict[str, Any] | None = None,
    clear_billing_address: bool = False,
    actor: str | None = None,
) -> User:
    """Change what is given (None leaves a field as it is; an empty name or phone
    clears it). The name is split into first and last name for `/userinfo`."""
    user = get_user(db, user_id)
    changed: dict[str, Any] = {}
    if name is not None:
        user.name = _clean_name(name)
        first, _, rest = (user.name or "").partition(" ")
        user.first_name, user.last_name = (first or None), (rest or None)
        changed["name"] = user.name
    if phone is not None:
        user.phone = _clean_phone(phone)
        changed["phone"] = user.phone
    if billing_address is not None:
        user.billing_address = clean_address(billing_address)
        changed["billing_address"] = user.billing_address
    elif clear_billing_address:
        user.billing_address = None
        changed["billing_address"] = None
    if not changed:
        raise InvalidRequest("Nothing to change")
    db.flush()
    audit.record_event(
        db,
        audit.events.PROFILE_UPDATED,
        actor=actor or audit.events.person(user_id),
        subject=user_id,
        user_id=user_id,
        data=changed,
    )
    return user


def as_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "billing_address": user.billing_address,
    }
