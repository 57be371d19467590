"""Who is calling the agent API: an `AgentPrincipal`, looked up from a bearer token.
The FastAPI side (401/403 answers) is `wallet.api.deps`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from linkpay.wallet.auth.tokens import ACCESS_PREFIX, access_live, hash_token
from linkpay.wallet.store.models import OAuthToken, utcnow


@dataclass(frozen=True)
class AgentPrincipal:
    user_id: str
    token_family_id: str
    client_id: str
    scopes: frozenset[str]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


# The columns a principal needs, built once: it runs before every agent request that
# is not a plain retrieve, and loading the whole token row through the ORM cost more
# than the read itself.
_TOKENS = OAuthToken.__table__
_PRINCIPAL = select(
    _TOKENS.c.user_id,
    _TOKENS.c.family_id,
    _TOKENS.c.client_id,
    _TOKENS.c.scope,
    _TOKENS.c.revoked_at,
    _TOKENS.c.access_expires_at,
).where(_TOKENS.c.access_token_hash == bindparam("token_hash"))


def principal_for_token(session: Session, token: str) -> AgentPrincipal | None:
    """The agent behind a live access token, or None (unknown, expired or revoked):
    `auth.tokens.access_live` decides, from one read of six columns on the session's
    connection."""
    return principal_on(session.connection(), token)


def principal_on(connection: Connection, token: str) -> AgentPrincipal | None:
    """`principal_for_token` on a bare connection (a lane's `store.db.single_read`)."""
    if not token.startswith(ACCESS_PREFIX):
        return None
    row = connection.execute(_PRINCIPAL, {"token_hash": hash_token(token)}).first()
    if row is None or not access_live(row.revoked_at, row.access_expires_at, utcnow()):
        return None
    return AgentPrincipal(
        user_id=row.user_id,
        token_family_id=row.family_id,
        client_id=row.client_id,
        scopes=frozenset(row.scope.split()),
    )
