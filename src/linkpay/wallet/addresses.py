"""The person's shipping addresses: add, edit, remove, choose the default.

Agents read them at `GET /shipping_addresses` (Link's shape) and are told to ship to
the default one, so the person must be able to keep them right: from the web app and
`link-wallet address …`. The first address becomes the default; removing the default
makes the oldest remaining one the default, so there is always one while any exist.
Every change is an audit event.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.errors import Conflict, InvalidRequest, NotFound, WalletError
from linkpay.wallet.ids import new_id
from linkpay.wallet.store.models import ShippingAddress, User
from linkpay.wire import Address

FIELDS = (
    "name",
    "line_1",
    "line_2",
    "locality",
    "dependent_locality",
    "administrative_area",
    "postal_code",
    "sorting_code",
    "country_code",
)
REQUIRED = ("name", "line_1", "locality", "country_code")
LABELS = {
    "name": "Name",
    "line_1": "Address line 1",
    "line_2": "Address line 2",
    "locality": "City",
    "dependent_locality": "District",
    "administrative_area": "State or region",
    "postal_code": "Postal code",
    "sorting_code": "Sorting code",
    "country_code": "Country (2 letters, like US)",
}
MAX_LENGTH = 200
MAX_ADDRESSES = 20
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def invalid(param: str, message: str) -> WalletError:
    return InvalidRequest(f"{param}: {message}", param=param)


def clean_address(fields: dict[str, Any]) -> dict[str, str]:
    """Validate what the person typed into the stored form (wire.Address fields, empty
    ones dropped). Raises 400 naming the first bad field."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise invalid(unknown[0], "not an address field")
    cleaned: dict[str, str] = {}
    for name in FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise invalid(name, "must be text")
        value = " ".join(value.split())
        if len(value) > MAX_LENGTH:
            raise invalid(name, f"at most {MAX_LENGTH} characters")
        if value:
            cleaned[name] = value
    if "country_code" in cleaned:
        cleaned["country_code"] = cleaned["country_code"].upper()
        if not _COUNTRY.match(cleaned["country_code"]):
            raise invalid("country_code", "two letters, like US or DE")
    for name in REQUIRED:
        if name not in cleaned:
            raise invalid(name, "required")
    Address.model_validate(cleaned)
    return cleaned


def clean_nickname(nickname: str | None) -> str | None:
    text = " ".join((nickname or "").split())
    if len(text) > 100:
        raise invalid("nickname", "at most 100 characters")
    return text or None


def list_addresses(db: Session, user_id: str) -> list[ShippingAddress]:
    """Default first, then oldest first (the order agents see)."""
    return list(
        db.scalars(
            select(ShippingAddress)
            .where(ShippingAddress.user_id == user_id)
            .order_by(ShippingAddress.is_default.desc(), ShippingAddress.created_at)
        )
    )


def get_address(db: Session, user_id: str, address_id: str) -> ShippingAddress:
    row = db.get(ShippingAddress, address_id)
    if row is None or row.user_id != user_id:  # another person's: 404, never 403
        raise NotFound("No such shipping address", param="id")
    return row


def _record(db: Session, kind: str, row: ShippingAddress, actor: str | None) -> None:
    audit.record_event(
        db,
        kind,
        actor=actor or audit.events.person(row.user_id),
        subject=row.id,
        user_id=row.user_id,
        data={"nickname": row.nickname, "address": row.address, "is_default": row.is_default},
    )


def add_address(
    db: Session,
    user_id: str,
    fields: dict[str, Any],
    *,
    nickname: str | None = None,
    make_default: bool = False,
    actor: str | None = None,
) -> ShippingAddress:
    if db.get(User, user_id) is None:
        raise NotFound("No such user")
    address = clean_address(fields)
    existing = list_addresses(db, user_id)
    if len(existing) >= MAX_ADDRESSES:
        raise Conflict(
            f"At most {MAX_ADDRESSES} addresses; remove one first", code="too_many_addresses"
        )
    if any(row.address == address for row in existing):
        raise Conflict("That address is already saved", code="duplicate_address")
    default = make_default or not any(row.is_default for row in existing)
    if default:
        _clear_default(db, user_id)
    row = ShippingAddress(
        id=new_id("shad"),
        user_id=user_id,
        is_default=default,
        nickname=clean_nickname(nickname),
        address=address,
    )
    db.add(row)
    db.flush()
    _record(db, audit.events.ADDRESS_ADDED, row, actor)
    return row


def update_address(
    db: Session,
    user_id: str,
    address_id: str,
    fields: dict[str, Any],
    *,
    nickname: str | None = None,
    actor: str | None = None,
) -> ShippingAddress:
    row = get_address(db, user_id, address_id)
    address = clean_address(fields)
    if any(other.address == address for other in list_addresses(db, user_id) if other is not row):
        raise Conflict("That address is already saved", code="duplicate_address")
    row.address = address
    row.nickname = clean_nickname(nickname)
    db.flush()
    _record(db, audit.events.ADDRESS_UPDATED, row, actor)
    return row


def remove_address(
    db: Session, user_id: str, address_id: str, *, actor: str | None = None
) -> ShippingAddress:
    row = get_address(db, user_id, address_id)
    was_default = row.is_default
    _record(db, audit.events.ADDRESS_REMOVED, row, actor)
    db.delete(row)
    db.flush()
    if was_default:
        remaining = list_addresses(db, user_id)
        if remaining:
            remaining[0].is_default = True
            db.flush()
    return row


def set_default_address(
    db: Session, user_id: str, address_id: str, *, actor: str | None = None
) -> ShippingAddress:
    row = get_address(db, user_id, address_id)
    _clear_default(db, user_id)
    row.is_default = True
    db.flush()
    _record(db, audit.events.ADDRESS_DEFAULT, row, actor)
    return row


def _clear_default(db: Session, user_id: str) -> None:
    db.execute(
        update(ShippingAddress)
        .where(ShippingAddress.user_id == user_id, ShippingAddress.is_default.is_(True))
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )


def as_dict(row: ShippingAddress) -> dict[str, Any]:
    """The agent API's shape (`wire.ShippingAddress`)."""
    return {
        "id": row.id,
        "is_default": row.is_default,
        "nickname": row.nickname,
        "address": Address.model_validate(row.address or {}).model_dump(),
    }


def one_line(address: dict[str, Any]) -> str:
    """`Ada Lovelace, 12 St James's Square, London SW1Y 4JH, GB` for lists."""
    parts = [
        address.get("name"),
        address.get("line_1"),
        address.get("line_2"),
        " ".join(p for p in (address.get("locality"), address.get("postal_code")) if p),
        address.get("administrative_area"),
        address.get("country_code"),
    ]
    return ", ".join(p for p in parts if p)
