"""FastAPI dependencies of the agent API: the agent principal behind the bearer token.

`AgentDep` needs a live token (401 `authentication_required` otherwise); `agent_with(
scope)` also needs that scope (403 `forbidden`). Both only read the header on the event
loop; the token lookup is a `Deferred` that runs in the route's own worker thread,
inside the request's transaction (see `wallet.deps`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from linkpay.wallet.auth.principal import AgentPrincipal, principal_for_token
from linkpay.wallet.deps import Deferred, Unit, UnitDep
from linkpay.wallet.errors import Forbidden, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An agent access token (`lk_at_…`).")


def _unauthenticated(message: str) -> Unauthenticated:
    return Unauthenticated(message)


class _Agent(Deferred):
    one_statement = True  # the token lookup (`auth.principal.principal_for_token`)

    def __init__(self, unit: Unit, token: str, scope: str | None) -> None:
        super().__init__(unit)
        self.token = token
        self.scope = scope

    def resolve(self, session: Session) -> AgentPrincipal:
        principal = principal_for_token(session, self.token)
        if principal is None:
            raise _unauthenticated("Access token is unknown, expired or revoked")
        if self.scope is not None and not principal.has_scope(self.scope):
            raise Forbidden(f"This token lacks the {self.scope!r} scope")
        return principal


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated("Missing bearer token; log in with `link-cli auth login`")
    return credentials.credentials


async def require_agent(
    unit: UnitDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Any:
    """The agent behind `Authorization: Bearer …`."""
    return _Agent(unit, _bearer_token(credentials), None)


def agent_with(scope: str) -> Any:
    """A dependency: the agent, which must hold `scope`."""

    async def dependency(
        unit: UnitDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Any:
        return _Agent(unit, _bearer_token(credentials), scope)

    return Depends(dependency)


AgentDep = Annotated[AgentPrincipal, Depends(require_agent)]
# Agents need the payments scope (in the default agent grant) for spend requests and
# the wallet's resources.
PAYMENTS_SCOPE = "payment_methods.agentic"
PaymentsAgent = Annotated[AgentPrincipal, agent_with(PAYMENTS_SCOPE)]
UserinfoAgent = Annotated[AgentPrincipal, agent_with("userinfo:read")]
