"""A fast lane for the call agents poll: `GET /spend_requests/{id}` with no query string.

`PlainRetrieveLane` is an ASGI middleware inside the body limit. For a plain retrieve
(GET, an `lsrq_…` id, no query string, a bearer token) it runs `spend.plain_read` in
one worker-thread hop: one statement for the token and the request, no transaction.
Measured in process on SQLite, that is about a quarter of the declared route's CPU
(routing, dependency solving, two hops and two transactions), and on PostgreSQL it
spares the database server most of its work for the read.

The lane answers only the 200s. Everything else goes on to the app unchanged: a
token that is unknown, expired, revoked or lacks the scope, a request that is missing
or someone else's, an expiry due to be persisted, a database error, and every retrieve
with a query (`wait`, `include`, `last_status`). So 401/403/404/503 answers, lazy
expiry and the long-poll are the declared route's own, as is the OpenAPI document.

At most `LANE_READS_IN_FLIGHT` lane reads run at once in a process (the executor's
threads); more wait their turn. A read is a short round trip, so a few in flight keep
the database busy, while dozens of threads only fight over the GIL (and on PostgreSQL
keep as many server processes busy on two cores): PostgreSQL, `--workers 2`, 64
connections, went from 36.8 % (31.4–40.1) of a bare app's throughput unlimited to
44.1 % (42.7–46.0) with 4 (3 gave 44.1 %, 6 46.0 %, 10 40.7 %; `bench/scale_bench.py
throughput --databases postgres --endpoints retrieve --concurrency 64`, 3 rounds each,
before httptools made the bare app ~40 % faster). SQLite (one worker) kept its 56–61 %.

The hop is a `ThreadHop` rather than `anyio.to_thread`: with anyio the wallet spent
390–485 us of CPU per retrieve (PostgreSQL, 2 workers, 64 connections, wrk), with the
executor 311–347 us, and throughput went from ~3,000–4,000 to ~4,400–5,000 req/s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Response
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.exc import SQLAlchemyError

from linkpay.thread_hop import ThreadHop
from linkpay.wallet.api.deps import PAYMENTS_SCOPE
from linkpay.wallet.spend.plain_read import read_plain
from linkpay.wallet.spend.serialize import wire_of
from linkpay.wallet.store.models import utcnow

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LANE_READS_IN_FLIGHT = 4
LANE_THREAD_NAME = "plain-read"
_READS = ThreadHop(LANE_READS_IN_FLIGHT, LANE_THREAD_NAME)  # one per process
_PREFIX = "/spend_requests/"
_ID_PREFIX = "lsrq_"  # what `ids.new_id("lsrq")` makes


def plain_retrieve(scope: Scope) -> tuple[str, str] | None:
    """(spend request id, bearer token) when `scope` is a plain retrieve, else None."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
        return None
    return bearer_spend_request(scope)


def bearer_spend_request(scope: Scope) -> tuple[str, str] | None:
    """(spend request id, bearer token) when `scope` is an HTTP request for
    `/spend_requests/lsrq_…` with a bearer token (query and method aside), else None.
    The token is read the way the route's `HTTPBearer` reads it."""
    if scope.get("root_path"):
        return None
    path: str = scope["path"]
    spend_request_id = path[len(_PREFIX) :]
    if (
        not path.startswith(_PREFIX)
        or not spend_request_id.startswith(_ID_PREFIX)
        or "/" in spend_request_id
    ):
        return None
    authorization = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
            break
    scheme, token = get_authorization_scheme_param(authorization)
    if not token or scheme.lower() != "bearer":
        return None
    return spend_request_id, token


def _answer(state: Any, spend_request_id: str, token: str) -> Response | None:
    now = utcnow()
    found = read_plain(state.engine, token, spend_request_id, scope=PAYMENTS_SCOPE, now=now)
    if found is None:
        return None
    wire = wire_of(
        found.row,
        settings=state.settings,
        now=now,
        credential=found.credential,
        decision=found.decision,
    )
    # The bytes the route sends (`JSONResponse` of `model_dump(mode="json",
    # exclude_none=True)`: compact, UTF-8 unescaped), serialized by pydantic-core in one
    # step instead of a dict and `json.dumps`.
    return Response(wire.model_dump_json(exclude_none=True), media_type="application/json")


class PlainRetrieveLane:
    """Answer plain retrieves that are 200s; pass everything else on (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = plain_retrieve(scope)
        if plain is not None:
            try:
                answer = await _READS.run(_answer, scope["app"].state, *plain)
            except SQLAlchemyError:
                answer = None  # the route meets it again and answers as it always has
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
