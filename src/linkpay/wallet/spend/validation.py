"""Rules that need the person's state, on top of the wire models' field rules: their
own per-request limit, the "stop everything" switch, payment method ownership, a
deadline in the future, and totals that agree with the amount after an update.
Every failure is a 4xx naming the field, so the agent can fix the one thing wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.errors import Forbidden, InvalidRequest, Unauthenticated
from linkpay.wallet.store.models import PaymentMethod, User
from linkpay.wire import MAX_AMOUNT


def invalid(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: {message}", param=param)


def load_person(
    session: Session, user_id: str, *, lock: bool = False, share_lock: bool = False
) -> User:
    """The person, optionally row-locked on PostgreSQL (SQLite already serializes
    writers with BEGIN IMMEDIATE): `lock` (FOR UPDATE) serializes against every other
    locker; `share_lock` (FOR SHARE) only against writers of the person's row, such as
    `pause_spending`, so creates for one person run side by side."""
    stmt = select(User).where(User.id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    elif share_lock:
        stmt = stmt.with_for_update(read=True)
    person = session.scalars(stmt).first()
    if person is None:  # the token outlived its user: treat like an unknown token
        raise Unauthenticated("Unknown user for this token")
    return person


def ensure_spending_allowed(person: User) -> None:
    if person.spending_paused:
        raise Forbidden(
            "The person has paused all agent spending; ask them to resume it in the wallet",
            reason="spending_paused",
        )


def check_amount(person: User, amount: int) -> None:
    limit = min(person.max_amount_per_request or MAX_AMOUNT, MAX_AMOUNT)
    if amount > limit:
        raise invalid("amount", f"{amount} exceeds the person's limit of {limit} per spend request")


def resolve_payment_method(
    session: Session, person: User, payment_method_id: str | None
) -> PaymentMethod:
    """The caller's method by id, or their default (else their oldest) when absent."""
    if payment_method_id is not None:
        method = session.get(PaymentMethod, payment_method_id)
        if method is None or method.user_id != person.id or method.removed_at is not None:
            raise invalid("payment_details", "no such payment method for this account")
        return method
    methods = session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.user_id == person.id, PaymentMethod.removed_at.is_(None))
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at, PaymentMethod.id)
    ).all()
    if not methods:
        raise invalid(
            "payment_details",
            "the person has no payment method yet; they must add one in the wallet first",
        )
    return methods[0]


EXPIRES_AT_MIN = timedelta(hours=3)
EXPIRES_AT_MAX = timedelta(days=7)


def parse_expires_at(
    expires_at: int | None,
    now: datetime,
    *,
    client_id: str,
    allowed_clients: frozenset[str] | None,
) -> datetime | None:
    """An agent's own expiry (unix seconds): only for clients the operator allows
    (`LINKPAY_EXTENDED_EXPIRY_CLIENT_IDS`), and only 3 hours to 7 days ahead. It then
    replaces the default credential validity."""
    if expires_at is None:
        return None
    if allowed_clients is not None and client_id not in allowed_clients:
        raise InvalidRequest(
            f"expires_at: this client ({client_id}) may not choose the expiry; leave it "
            "out to get the wallet's default",
            param="expires_at",
        )
    moment = datetime.fromtimestamp(expires_at, UTC)
    if moment < now + EXPIRES_AT_MIN:
        raise invalid("expires_at", "must be at least 3 hours ahead (unix seconds)")
    if moment > now + EXPIRES_AT_MAX:
        raise invalid("expires_at", "must be at most 7 days ahead (unix seconds)")
    return moment


def check_total_matches(amount: int, totals: list[dict[str, Any]]) -> None:
    """After merging an update, a total of type `total` must still equal `amount`."""
    for total in totals:
        if total.get("type") == "total" and total.get("amount") != amount:
            raise invalid(
                "totals",
                f"the total of type 'total' ({total.get('amount')}) must equal amount ({amount})",
            )


def check_credential_shape(
    credential_type: str, merchant_name: str | None, merchant_url: str | None
) -> None:
    """An update must not give an SPT request a merchant (it is bound by network_id)."""
    if credential_type == "shared_payment_token" and (merchant_name or merchant_url):
        raise invalid("merchant_url", "must be absent for shared_payment_token spend requests")
