"""A fast lane for the agent's long-poll: `GET /spend_requests/{id}?wait=N`, with
`last_status` and `include` as the route reads them.

The declared route resolves the token through FastAPI's dependency solving, asks the
watcher (`spend.longpoll.VersionWatcher.long_poll`) and, once woken, sends the answer
the batch already encoded back up through the route, FastAPI's wrappers and every
middleware. `LongPollLane` (an ASGI middleware inside the body limit) checks the token
in one statement in a worker thread, asks the same watcher with the same probe and
sends that same answer itself. In a burst of approvals every woken long-poll's answer
takes this short way out.

Only what the lane reads exactly as the route does is taken: a bearer token; an
`lsrq_…` id; `wait` from 1 to `MAX_WAIT_SECONDS` in plain digits; at most one
`last_status` (1 to 40 characters); `include` values the route accepts; nothing else
in the query. Everything else goes on to the route unchanged: a token that is not live
or lacks the scope (401/403), a query the route refuses (400/422) or reads differently,
a database error (503). When the watcher has no answer (the request is missing or
someone else's, a batch failed) the route answers the current state, as it does itself
then: the request goes on without its `wait`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from fastapi import Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from linkpay.wallet.api.deps import PAYMENTS_SCOPE
from linkpay.wallet.api.plain_retrieve import ASGIApp, Receive, Scope, Send, bearer_spend_request
from linkpay.wallet.api.spend_requests import parse_include
from linkpay.wallet.auth.principal import principal_on
from linkpay.wallet.deps import ROUTE_THREADS
from linkpay.wallet.errors import WalletError
from linkpay.wallet.spend.longpoll import MAX_WAIT_SECONDS, Probe
from linkpay.wallet.store.db import single_read

_LAST_STATUS_MAX = 40  # the route's `max_length`


@dataclass(frozen=True)
class LongPoll:
    spend_request_id: str
    token: str
    wait: int
    last_status: str | None
    include: tuple[str, ...]


def long_poll_request(scope: Scope) -> LongPoll | None:
    """The long-poll `scope` asks for, when the lane reads it exactly as the route would;
    else None (module docstring)."""
    query: bytes = scope.get("query_string") or b""
    if not query:
        return None
    found = bearer_spend_request(scope)
    if found is None:
        return None
    wait: str | None = None
    last_status: str | None = None
    includes: list[str] = []
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name == "include":
            includes.append(value)
        elif name == "wait" and wait is None:
            wait = value
        elif name == "last_status" and last_status is None:
            last_status = value
        else:  # another parameter, or one given twice: the route's own reading
            return None
    if wait is None or not (wait.isascii() and wait.isdigit()) or wait.startswith("0"):
        return None
    seconds = int(wait)
    if not 0 < seconds <= MAX_WAIT_SECONDS:
        return None
    if last_status is not None and not 0 < len(last_status) <= _LAST_STATUS_MAX:
        return None
    try:
        include = parse_include(includes)
    except WalletError:  # the route words the 400
        return None
    return LongPoll(*found, seconds, last_status, include)


def _user_id(engine: Engine, token: str) -> str | None:
    """The token's person, if the token is live and may read spend requests."""
    with single_read(engine) as connection:
        principal = principal_on(connection, token)
    if principal is None or not principal.has_scope(PAYMENTS_SCOPE):
        return None
    return principal.user_id


def _without_wait(scope: Scope) -> Scope:
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    kept = urlencode([(name, value) for name, value in pairs if name != "wait"])
    return {**scope, "query_string": kept.encode("latin-1")}


class LongPollLane:
    """Answer long-polls the watcher answers; pass everything else on (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        poll = long_poll_request(scope)
        if poll is None:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        try:
            user_id = await ROUTE_THREADS.run(_user_id, state.engine, poll.token)
        except SQLAlchemyError:
            user_id = None  # the route meets it again and answers as it always has
        if user_id is None:
            await self.app(scope, receive, send)
            return
        probe = Probe(poll.spend_request_id, user_id, poll.last_status, poll.include)
        answer = await state.spend_request_watcher.long_poll(probe, timeout=poll.wait)
        if answer is None:
            await self.app(_without_wait(scope), receive, send)
            return
        await Response(answer, media_type="application/json")(scope, receive, send)
