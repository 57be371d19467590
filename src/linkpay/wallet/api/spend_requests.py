"""Spend request routes. They parse, call `wallet.spend.service`,
and render; every rule lives in the service.

Each POST honours `Idempotency-Key` (see `spend.idempotency`): the operation and the
stored response commit in one transaction. `GET /spend_requests/{id}?wait=N` is a
long-poll (`spend.longpoll`): the route is `async` and holds no database transaction
while it waits, so thousands of waiting agents cost little.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.api.deps import AgentDep, PaymentsAgent
from linkpay.wallet.auth.principal import AgentPrincipal
from linkpay.wallet.deps import (
    ROUTE_THREADS,
    NotifierDep,
    ReadDbDep,
    SessionmakerDep,
    SettingsDep,
    UnitRoute,
    WatcherDep,
)
from linkpay.wallet.errors import ERROR_RESPONSES, Forbidden, InvalidRequest
from linkpay.wallet.spend import idempotency, reads, service
from linkpay.wallet.spend.longpoll import MAX_WAIT_SECONDS, Probe
from linkpay.wallet.spend.serialize import approval_url
from linkpay.wallet.store.db import read_transaction, transaction
from linkpay.wallet.store.models import utcnow
from linkpay.wire import (
    ApprovalLink,
    SpendRequest,
    SpendRequestCreate,
    SpendRequestList,
    SpendRequestUpdate,
)

router = APIRouter(tags=["spend_requests"], responses=ERROR_RESPONSES, route_class=UnitRoute)

# Agents need the payments scope for spend requests; create_delegated needs the
# approval scope instead, checked by the service.
SpendAgent = PaymentsAgent
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retry-safe key: same key + same body replays the first response",
        # What `spend.idempotency.check_key` accepts (1 to 255 printable characters),
        # as a pattern for /openapi.json; the check keeps its own message.
        json_schema_extra={"pattern": "^[ -~]{1,255}$"},
    ),
]
_EXPANDABLE = ("card", "shared_payment_token")


def _no_includes() -> list[str]:
    """Default of `include`. A plain function, not `list`: FastAPI asks pydantic about
    the factory's signature on every request, and `inspect.signature(list)` parses text."""
    return []


def _dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


def _run_post(
    request: Request,
    factory: sessionmaker[Session],
    principal: AgentPrincipal,
    key: str | None,
    body: BaseModel | None,
    work: Callable[[Session], BaseModel],
) -> JSONResponse:
    """Run `work` in one transaction, under the idempotency key when one is given."""
    if key is None:
        with transaction(factory) as session:
            payload = _dump(work(session))
        return JSONResponse(payload)
    fingerprint = idempotency.request_fingerprint(
        request.method,
        request.url.path,
        body.model_dump(mode="json", exclude_unset=True) if body is not None else None,
    )
    claimed = idempotency.claim(
        factory,
        principal=principal.token_family_id,
        key=key,
        method=request.method,
        path=request.url.path,
        request_hash=fingerprint,
    )
    if isinstance(claimed, idempotency.Replay):
        return JSONResponse(
            claimed.body,
            status_code=claimed.status_code,
            headers={idempotency.REPLAYED_HEADER: "true"},
        )
    try:
        with transaction(factory) as session:
            payload = _dump(work(session))
            idempotency.complete(session, claimed, 200, payload)
    except BaseException:
        idempotency.release(factory, claimed)
        raise
    return JSONResponse(payload)


@router.post("/spend_requests", response_model=SpendRequest, summary="Create a spend request")
def create_spend_request(
    request: Request,
    body: SpendRequestCreate,
    principal: SpendAgent,
    settings: SettingsDep,
    notifier: NotifierDep,
    factory: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    def work(session: Session) -> BaseModel:
        row = service.create_spend_request(
            session, principal, body, settings=settings, notifier=notifier
        )
        return service.to_wire_new(session, row, settings=settings)

    return _run_post(request, factory, principal, idempotency_key, body, work)


@router.post(
    "/spend_requests/create_delegated",
    response_model=SpendRequest,
    summary="Create an already-approved spend request (needs spend_requests:approve)",
)
def create_delegated_spend_request(
    request: Request,
    body: SpendRequestCreate,
    principal: AgentDep,
    settings: SettingsDep,
    factory: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    if not principal.has_scope(service.APPROVE_SCOPE):  # before claiming any key
        raise Forbidden(f"This token lacks the {service.APPROVE_SCOPE!r} scope")

    def work(session: Session) -> BaseModel:
        row = service.create_delegated_spend_request(session, principal, body, settings=settings)
        return service.to_wire(session, row, settings=settings)

    return _run_post(request, factory, principal, idempotency_key, body, work)


@router.get("/spend_requests", response_model=SpendRequestList, summary="List spend requests")
def list_spend_requests(
    principal: SpendAgent,
    session: ReadDbDep,
    settings: SettingsDep,
    factory: SessionmakerDep,
    include_history: bool = Query(False, description="All requests, each with status_history"),
    limit: int = Query(
        reads.MAX_PAGE_SIZE, ge=1, le=reads.MAX_PAGE_SIZE, description="Page size (≤ 100)"
    ),
    starting_after: str | None = Query(
        None,
        max_length=40,
        description="The last id of the previous page: list the requests created before it",
    ),
) -> JSONResponse:
    """Newest first, one page at a time (`has_more` says whether another follows). A
    read (the request's one transaction, read-only): it never waits for the write lock."""
    now = utcnow()
    rows, has_more = reads.list_page(
        session,
        principal.user_id,
        include_history=include_history,
        limit=limit,
        starting_after=starting_after,
        now=now,
    )
    data = service.to_wire_many(session, rows, settings=settings, history=include_history, now=now)
    reads.persist_due_expiries(factory, rows)  # a short write, only when one is due
    return JSONResponse(_dump(SpendRequestList(data=data, has_more=has_more)))


def parse_include(values: list[str]) -> tuple[str, ...]:
    """The route's `include` values (repeated and/or comma-separated), checked."""
    wanted: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part not in _EXPANDABLE:
                raise InvalidRequest(
                    "include: must be card or shared_payment_token",
                    param="include",
                )
            wanted.append(part)
    return tuple(wanted)


@router.get(
    "/spend_requests/{spend_request_id}",
    response_model=SpendRequest,
    summary="Retrieve a spend request (long-poll with ?wait=N)",
)
async def retrieve_spend_request(
    request: Request,
    spend_request_id: str,
    principal: SpendAgent,
    settings: SettingsDep,
    watcher: WatcherDep,
    factory: SessionmakerDep,
    include: list[str] = Query(  # noqa: B008
        default_factory=_no_includes, description="card | shared_payment_token (once approved)"
    ),
    wait: int | None = Query(
        None,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait for the status to change before answering (≤ 30)",
    ),
    last_status: str | None = Query(
        None,
        max_length=40,
        description=(
            "With wait: the status the client saw last. If the request has already moved "
            "on from it, answer at once; otherwise wait for a change from it. Closes the "
            "gap between a client's previous fetch and its long-poll call."
        ),
    ),
) -> Response:
    wanted = parse_include(include)
    user_id = principal.user_id

    def render() -> Any:
        # Revealing a credential is recorded (audit), so it writes; a plain read doesn't.
        begin = transaction if wanted else read_transaction
        with begin(factory) as session:
            row = service.load_for_user(session, user_id, spend_request_id)
            payload = _dump(service.to_wire(session, row, settings=settings, include=wanted))
        reads.persist_due_expiries(factory, [row])  # a short write, only when due
        return payload

    if wait:
        # The watcher reads (and, once the status moves, renders) in batches with every
        # other long-poll due at the same moment; None: answer the current state here.
        probe = Probe(spend_request_id, user_id, last_status, wanted)
        answer = await watcher.long_poll(probe, timeout=wait)
        if answer is not None:  # the JSON body, encoded in the batch
            return Response(answer, media_type="application/json")
    return JSONResponse(await ROUTE_THREADS.run(render))


@router.post(
    "/spend_requests/{spend_request_id}",
    response_model=SpendRequest,
    summary="Update a spend request (before approval)",
)
def update_spend_request(
    request: Request,
    spend_request_id: str,
    body: SpendRequestUpdate,
    principal: SpendAgent,
    settings: SettingsDep,
    factory: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:

    def work(session: Session) -> BaseModel:
        row = service.update_spend_request(
            session, principal, spend_request_id, body, settings=settings
        )
        return service.to_wire(session, row, settings=settings)

    return _run_post(request, factory, principal, idempotency_key, body, work)


@router.post(
    "/spend_requests/{spend_request_id}/request_approval",
    response_model=ApprovalLink,
    summary="Ask the person to approve",
)
def request_approval(
    request: Request,
    spend_request_id: str,
    principal: SpendAgent,
    settings: SettingsDep,
    notifier: NotifierDep,
    factory: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:

    def work(session: Session) -> BaseModel:
        row = service.request_approval(
            session,
            principal,
            spend_request_id,
            settings=settings,
            notifier=notifier,
        )
        return ApprovalLink(id=row.id, approval_link=approval_url(settings, row.id))

    return _run_post(request, factory, principal, idempotency_key, None, work)


@router.post(
    "/spend_requests/{spend_request_id}/cancel",
    response_model=SpendRequest,
    summary="Cancel (voids an issued credential)",
)
def cancel_spend_request(
    request: Request,
    spend_request_id: str,
    principal: SpendAgent,
    settings: SettingsDep,
    factory: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:

    def work(session: Session) -> BaseModel:
        row = service.cancel_spend_request(
            session, user_id=principal.user_id, spend_request_id=spend_request_id
        )
        return service.to_wire(session, row, settings=settings)

    return _run_post(request, factory, principal, idempotency_key, None, work)
