"""FastAPI dependencies of the web app: the signed-in person, with the CSRF check on
every unsafe method (POST…) done before the route body runs.

`PersonDep` reads the cookie and the form's `csrf_token` (or `X-CSRF-Token`) on the
event loop; the session lookup is a `Deferred` resolved in the route's own worker
thread, inside the request's transaction (see `wallet.deps`). Signed out: GET pages
redirect to sign-in, other methods get a 401 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from limits import parse
from sqlalchemy.orm import Session

from linkpay.wallet.deps import Deferred, Unit, UnitDep
from linkpay.wallet.rate_limits import RateLimiters
from linkpay.wallet.web.http import WebError, client_address
from linkpay.wallet.web.sessions import Person, check_csrf, check_presession_csrf, require_person

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class _SignedIn(Deferred):
    def __init__(self, unit: Unit, request: Request, form_token: str | None) -> None:
        super().__init__(unit)
        self.request = request
        self.form_token = form_token

    def resolve(self, session: Session) -> Person:
        person = require_person(session, self.request)
        if self.request.method not in SAFE_METHODS:
            check_csrf(self.request, person, self.form_token)
        return person


async def signed_in(request: Request, unit: UnitDep) -> Any:
    form_token = None
    if request.method not in SAFE_METHODS and request.headers.get("content-type", "").startswith(
        _FORM_TYPES
    ):
        value = (await request.form()).get("csrf_token")  # Starlette caches the form
        form_token = value if isinstance(value, str) else None
    return _SignedIn(unit, request, form_token)


async def get_limiters(request: Request) -> RateLimiters:
    limiters: RateLimiters = request.app.state.limiters
    return limiters


PersonDep = Annotated[Person, Depends(signed_in)]
LimitersDep = Annotated[RateLimiters, Depends(get_limiters)]

# Password, email-link and passkey attempts per client address, counted by the app's
# shared limiter (`RateLimiters.signin`: across workers and hosts on PostgreSQL).
ATTEMPTS = parse("20/10 minutes")


def count_attempt(request: Request, limiters: RateLimiters, kind: str) -> None:
    """One more sign-in or step-up attempt of `kind`; 429 page past the limit."""
    if not limiters.signin.hit(ATTEMPTS, kind, client_address(request)):
        raise WebError(429, "Too many attempts", "Wait a few minutes and try again.")


async def refuse_agent_tokens(request: Request) -> None:
    """Only people change rules: a request carrying a bearer token is an agent's."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        raise WebError(403, "People only", "Agents can't read or change the person's rules.")


async def pre_sign_in_csrf(request: Request) -> None:
    """Forms and fetches shown before sign-in: CSRF token bound to the anonymous cookie
    (form field `csrf_token` or `X-CSRF-Token`). No database: checked on the event loop."""
    token = request.headers.get("x-csrf-token")
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get("csrf_token")
        token = value if isinstance(value, str) else None
    check_presession_csrf(request, token)


PreSignInDep = Annotated[None, Depends(pre_sign_in_csrf)]
