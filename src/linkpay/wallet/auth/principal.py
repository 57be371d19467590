"""Who is calling the agent API: an `AgentPrincipal`, looked up from a bearer token.
The FastAPI side (401/403 answers) is `wallet.api.deps`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from linkpay.wallet.auth.tokens import authenticate_access_token


@dataclass(frozen=True)
class AgentPrincipal:
    user_id: str
    token_family_id: str
    client_id: str
    scopes: frozenset[str]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def principal_for_token(session: Session, token: str) -> AgentPrincipal | None:
    """The agent behind a live access token, or None (unknown, expired or revoked)."""
    row = authenticate_access_token(session, token)
    if row is None:
        return None
    return AgentPrincipal(
        user_id=row.user_id,
        token_family_id=row.family_id,
        client_id=row.client_id,
        scopes=frozenset(row.scope.split()),
    )
