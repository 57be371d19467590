"""Agent access/refresh tokens: issue, authenticate, rotate, revoke.

Tokens are `lk_at_…` / `lk_rt_…` + 32 random bytes, stored only as SHA-256 (high
entropy needs no slow hash). A login's rotations share a `family_id`: revoking, or
presenting an already-rotated refresh token (a sign it was stolen), ends the family.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.errors import not_found
from linkpay.wallet.ids import new_id
from linkpay.wallet.store.models import OAuthToken, utcnow

ACCESS_PREFIX = "lk_at_"
REFRESH_PREFIX = "lk_rt_"

DEFAULT_AGENT_SCOPE = "userinfo:read payment_methods.agentic"
APPROVAL_SCOPE = "spend_requests:approve"
KNOWN_SCOPES = frozenset({"userinfo:read", "payment_methods.agentic", APPROVAL_SCOPE})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedTokens:
    row: OAuthToken
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Connection:
    """One connected agent, as the person sees it in the wallet."""

    family_id: str
    client_id: str
    connection_label: str | None
    scope: str
    connected_at: datetime
    last_refreshed_at: datetime


def issue_tokens(
    session: Session,
    *,
    user_id: str,
    client_id: str,
    scope: str,
    connection_label: str | None,
    authorization_details: list[Any] | None,
    access_ttl: int,
    refresh_ttl: int,
    family_id: str | None = None,
) -> IssuedTokens:
    now = utcnow()
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    row = OAuthToken(
        id=new_id("tok"),
        family_id=family_id or new_id("tfam"),
        user_id=user_id,
        client_id=client_id,
        connection_label=connection_label,
        access_token_hash=hash_token(access),
        refresh_token_hash=hash_token(refresh),
        scope=scope,
        authorization_details=authorization_details,
        access_expires_at=now + timedelta(seconds=access_ttl),
        refresh_expires_at=now + timedelta(seconds=refresh_ttl),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return IssuedTokens(row, access, refresh, access_ttl)


def access_live(revoked_at: datetime | None, access_expires_at: datetime, now: datetime) -> bool:
    """Whether an access token with these columns authenticates at `now`: read from
    the database on every request, so a revocation holds from its commit on."""
    return revoked_at is None and access_expires_at > now


class RefreshRefused(Exception):
    """The refresh token can't be used; `reason` is safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def rotate_refresh_token(
    session: Session, *, refresh_token: str, client_id: str, access_ttl: int, refresh_ttl: int
) -> IssuedTokens:
    """Trade a refresh token for a new pair. A second use of the same refresh token
    revokes the whole family (the caller must commit even when this raises)."""
    row = session.scalars(
        select(OAuthToken).where(OAuthToken.refresh_token_hash == hash_token(refresh_token))
    ).first()
    if row is None or row.client_id != client_id:
        raise RefreshRefused("unknown refresh token")
    now = utcnow()
    if row.revoked_at is not None:
        raise RefreshRefused("refresh token revoked")
    if row.rotated_at is not None:
        _revoke_family_rows(session, row.family_id, now)
        raise RefreshRefused("refresh token already used; the connection has been revoked")
    if row.refresh_expires_at <= now:
        raise RefreshRefused("refresh token expired")
    claimed = session.execute(
        update(OAuthToken)
        .where(
            OAuthToken.id == row.id,
            OAuthToken.rotated_at.is_(None),
            OAuthToken.revoked_at.is_(None),
        )
        .values(rotated_at=now)
        .returning(OAuthToken.id)
    ).first()
    if claimed is None:  # lost a race with another use of the same token
        _revoke_family_rows(session, row.family_id, now)
        raise RefreshRefused("refresh token already used; the connection has been revoked")
    return issue_tokens(
        session,
        user_id=row.user_id,
        client_id=row.client_id,
        scope=row.scope,
        connection_label=row.connection_label,
        authorization_details=row.authorization_details,
        access_ttl=access_ttl,
        refresh_ttl=refresh_ttl,
        family_id=row.family_id,
    )


def revoke_token(session: Session, token: str) -> bool:
    """Revoke the login an access or refresh token belongs to (RFC 7009: unknown
    tokens are not an error). Returns whether something was revoked."""
    digest = hash_token(token)
    row = session.scalars(
        select(OAuthToken).where(
            (OAuthToken.access_token_hash == digest) | (OAuthToken.refresh_token_hash == digest)
        )
    ).first()
    if row is None:
        return False
    revoked = _revoke_family_rows(session, row.family_id, utcnow()) > 0
    if revoked:  # the agent logged itself out
        _audit_revoked(
            session, user_id=row.user_id, family_id=row.family_id, by=f"agent:{row.family_id}"
        )
    return revoked


def _revoke_family_rows(session: Session, family_id: str, now: datetime) -> int:
    result = session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(OAuthToken.id)
    )
    return len(result.all())


def list_connections(session: Session, user_id: str) -> list[Connection]:
    """The person's connected agents: one entry per live login (token family)."""
    now = utcnow()
    rows = session.scalars(
        select(OAuthToken)
        .where(
            OAuthToken.user_id == user_id,
            OAuthToken.revoked_at.is_(None),
        )
        .order_by(OAuthToken.created_at)
    ).all()
    families: dict[str, list[OAuthToken]] = {}
    for row in rows:
        families.setdefault(row.family_id, []).append(row)
    connections = []
    for family_id, members in families.items():
        live = [m for m in members if m.rotated_at is None and m.refresh_expires_at > now]
        if not live:
            continue
        newest = live[-1]
        connections.append(
            Connection(
                family_id=family_id,
                client_id=newest.client_id,
                connection_label=newest.connection_label,
                scope=newest.scope,
                connected_at=members[0].created_at,
                last_refreshed_at=newest.created_at,
            )
        )
    connections.sort(key=lambda c: c.connected_at, reverse=True)
    return connections


def revoke_family(
    session: Session, *, user_id: str, family_id: str, actor: str | None = None
) -> None:
    """Disconnect one agent. Another person's (or unknown) family → 404."""

    owned = session.scalars(
        select(OAuthToken.id)
        .where(OAuthToken.family_id == family_id, OAuthToken.user_id == user_id)
        .limit(1)
    ).first()
    if owned is None:
        raise not_found("connection")
    if _revoke_family_rows(session, family_id, utcnow()):
        by = actor or audit.events.person(user_id)
        _audit_revoked(session, user_id=user_id, family_id=family_id, by=by)


def _audit_revoked(session: Session, *, user_id: str, family_id: str, by: str) -> None:
    label = session.scalars(
        select(OAuthToken.connection_label).where(OAuthToken.family_id == family_id).limit(1)
    ).first()
    audit.record_event(
        session,
        audit.events.AGENT_REVOKED,
        actor=by,
        subject=family_id,
        user_id=user_id,
        data={"connection_label": label},
    )


def normalize_scope(requested: str | None) -> str:
    """Validate a requested scope string; empty means the default agent scope.
    Raises ValueError naming the unknown scope."""
    parts = (requested or "").split()
    if not parts:
        return DEFAULT_AGENT_SCOPE
    unknown = [p for p in parts if p not in KNOWN_SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}")
    return " ".join(dict.fromkeys(parts))
