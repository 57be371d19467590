"""Who is calling the agent API: `require_agent` turns a bearer token into an
`AgentPrincipal` or answers 401 `authentication_required`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from linkpay.wallet.auth.tokens import authenticate_access_token
from linkpay.wallet.errors import ApiException
from linkpay.wallet.store.db import read_transaction


@dataclass(frozen=True)
class AgentPrincipal:
    user_id: str
    token_family_id: str
    client_id: str
    scopes: frozenset[str]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


_bearer = HTTPBearer(auto_error=False, description="An agent access token (`lk_at_…`).")

_UNAUTHENTICATED_HEADERS = {"WWW-Authenticate": 'Bearer realm="linkpay"'}


def _unauthenticated(message: str) -> ApiException:
    return ApiException(
        401,
        "authentication_required",
        message,
        headers={**_UNAUTHENTICATED_HEADERS, "Cache-Control": "no-store"},
    )


def require_agent(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> AgentPrincipal:
    """FastAPI dependency: the agent behind `Authorization: Bearer …`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated("Missing bearer token; log in with `link-cli auth login`")
    with read_transaction(request.app.state.sessionmaker) as session:  # a pure lookup
        row = authenticate_access_token(session, credentials.credentials)
        if row is None:
            raise _unauthenticated("Access token is unknown, expired or revoked")
        return AgentPrincipal(
            user_id=row.user_id,
            token_family_id=row.family_id,
            client_id=row.client_id,
            scopes=frozenset(row.scope.split()),
        )


def require_scope(scope: str) -> Callable[..., Awaitable[AgentPrincipal]]:
    """Dependency factory: the agent, which must hold `scope` (403 `forbidden` if not).
    The check is `async` because it does no I/O: a sync dependency would cost a hop
    to the thread pool on every request."""

    async def dependency(
        principal: Annotated[AgentPrincipal, Depends(require_agent)],
    ) -> AgentPrincipal:
        if not principal.has_scope(scope):
            raise ApiException(403, "forbidden", f"This token lacks the {scope!r} scope")
        return principal

    return dependency


AgentDep = Annotated[AgentPrincipal, Depends(require_agent)]
