"""Ways a person signs in to the web app, without the web layer.

- The owner link: `link-wallet serve` prints `{public_url}/signin/<token>` (like a
  notebook token). Also used by tests and the embedded wallet: `create_signin_link`.
- Email magic links (when SMTP is configured): the same one-time tokens, kind "email".
- Email + password (argon2id) for hosted use.
- Passkeys: see `passkeys.py`.

Tokens are 256-bit random, stored as SHA-256, single use (a conditional UPDATE sets
`used_at`, so two tabs racing on one link get exactly one session), short-lived.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linkpay.wallet.store.models import User
from linkpay.wallet.store.web_models import SignInToken

MIN_PASSWORD_LENGTH = 10
# OWASP's argon2id minimum (19 MiB, t=2, p=1): ~0.15 s on a small 2-core box, where
# argon2-cffi's default (64 MiB, t=3, p=4) costs ~0.9 s per sign-in. Hashes carry their
# parameters, so raising them later rehashes on the next successful sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_dummy: list[str] = []


def _dummy_hash() -> str:
    """Verifying against this when the email is unknown keeps timing alike for both
    cases. Made on first use: hashing costs every wallet start ~30 ms otherwise."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[0]


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_signin_token(
    session: Session,
    user_id: str,
    settings: Any,
    *,
    kind: str = "owner_link",
    ttl_seconds: int | None = None,
) -> str:
    """Store a new one-time sign-in token for the user; returns the plaintext token."""
    token = secrets.token_urlsafe(32)
    ttl = ttl_seconds if ttl_seconds is not None else int(settings.signin_link_ttl_seconds)
    session.add(
        SignInToken(
            token_hash=_sha256(token),
            user_id=user_id,
            kind=kind,
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )
    )
    session.flush()
    return token


def create_signin_link(
    session: Session,
    user_id: str,
    settings: Any,
    *,
    next_path: str | None = None,
    kind: str = "owner_link",
    ttl_seconds: int | None = None,
) -> str:
    """`{public_url}/signin/<token>`: one use, short-lived. Commit the session to use it."""
    token = create_signin_token(session, user_id, settings, kind=kind, ttl_seconds=ttl_seconds)
    url = f"{settings.public_url}/signin/{token}"
    if next_path:
        from urllib.parse import quote

        url += "?next=" + quote(next_path, safe="/")
    return url


def peek_signin_token(session: Session, token: str) -> SignInToken | None:
    """The token's row if it can still be used (not used, not expired)."""
    if not token or len(token) > 100:
        return None
    row = session.get(SignInToken, _sha256(token))
    if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
        return None
    return row


def consume_signin_token(session: Session, token: str) -> str | None:
    """Mark the token used; returns its user id, or None if it was not usable."""
    if not token or len(token) > 100:
        return None
    now = datetime.now(UTC)
    result = session.execute(
        update(SignInToken)
        .where(
            SignInToken.token_hash == _sha256(token),
            SignInToken.used_at.is_(None),
            SignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInToken.user_id)
    )
    return result.scalar_one_or_none()


def find_user_by_email(session: Session, email: str) -> User | None:
    email = email.strip().lower()
    if not email or len(email) > 320:
        return None
    return session.scalars(select(User).where(func.lower(User.email) == email)).first()


def check_password(session: Session, email: str, password: str) -> str | None:
    """The user id if the email/password pair is right, else None (same cost either way)."""
    user = find_user_by_email(session, email)
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user.id


def set_password(session: Session, user_id: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1000:
        raise ValueError("That password is too long.")
    user = session.get(User, user_id)
    if user is None:
        raise ValueError("No such user.")
    user.password_hash = _hasher.hash(password)


def has_password(session: Session, user_id: str) -> bool:
    user = session.get(User, user_id)
    return bool(user and user.password_hash)


def owner_user_id(session: Session) -> str | None:
    """The wallet's owner for the link `serve` prints: the first user created."""
    return session.scalars(select(User.id).order_by(User.created_at, User.id).limit(1)).first()
