"""Render a stored spend request as the wire `SpendRequest` the agent sees.

The status shown is the *effective* one (a request past its window reads `expired`
even before the stored row catches up). Credentials are added only when explicitly
asked for (`include=card` / `shared_payment_token`), only while the request is
approved, and only while the hash the person approved still matches the purchase.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.binding import Material, material_hash
from linkpay.wallet.issuing import service as issuing
from linkpay.wallet.issuing.base import BoundRequest, HeldCredential
from linkpay.wallet.policy.service import decision_of
from linkpay.wallet.spend.windows import Phased, deadline, effective_status
from linkpay.wallet.store.models import Credential, SpendRequest, SpendRequestEvent, utcnow
from linkpay.wallet.store.policy_models import SpendDecision
from linkpay.wire import PaymentStatusDetails, StatusDetails
from linkpay.wire import SpendRequest as WireSpendRequest


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def unix(moment: datetime | None) -> int | None:
    """Unix seconds: the type Link clients declare for `expires_at`."""
    if moment is None:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def approval_url(settings: Any, spend_request_id: str) -> str:
    return f"{settings.public_url}/approve/{spend_request_id}"


# The event columns a status history shows, read as plain rows (no ORM objects).
_EVENT_COLUMNS = (
    SpendRequestEvent.spend_request_id,
    SpendRequestEvent.to_status,
    SpendRequestEvent.from_status,
    SpendRequestEvent.actor,
    SpendRequestEvent.note,
    SpendRequestEvent.created_at,
)
_EVENT_ORDER = (SpendRequestEvent.created_at, SpendRequestEvent.id)


def _history_entry(event: Any) -> dict[str, Any]:
    return {
        "status": event.to_status,
        "from_status": event.from_status,
        "actor": event.actor,
        "note": event.note,
        "created_at": iso(event.created_at),
    }


def status_history(session: Session, spend_request_id: str) -> list[dict[str, Any]]:
    events = session.execute(
        select(*_EVENT_COLUMNS)
        .where(SpendRequestEvent.spend_request_id == spend_request_id)
        .order_by(*_EVENT_ORDER)
    )
    return [_history_entry(event) for event in events]


def _credential(session: Session, spend_request_id: str) -> Credential | None:
    return session.scalars(
        select(Credential).where(Credential.spend_request_id == spend_request_id)
    ).first()


@dataclass
class Preloaded:
    """Credentials (and status histories) of many requests, loaded in one query each
    instead of one or two per row (`to_wire_many`)."""

    credentials: dict[str, HeldCredential] = field(default_factory=dict)
    histories: dict[str, list[dict[str, Any]]] | None = None
    decisions: dict[str, dict[str, Any] | None] | None = None


def preload(session: Session, ids: list[str], *, history: bool = False) -> Preloaded:
    loaded = Preloaded()
    if not ids:
        return loaded
    for credential in session.scalars(
        select(Credential).where(Credential.spend_request_id.in_(ids))
    ):
        loaded.credentials.setdefault(credential.spend_request_id, credential)
    loaded.decisions = dict.fromkeys(ids)
    decisions = select(
        SpendDecision.spend_request_id, SpendDecision.by, SpendDecision.rule, SpendDecision.reason
    ).where(SpendDecision.spend_request_id.in_(ids))
    for spend_request_id, by, rule, reason in session.execute(decisions):
        if by is not None:  # the same rule as policy.service.decision_of
            loaded.decisions[spend_request_id] = {"by": by, "rule": rule, "reason": reason}
    if history:
        loaded.histories = {sid: [] for sid in ids}
        for event in session.execute(
            select(*_EVENT_COLUMNS)
            .where(SpendRequestEvent.spend_request_id.in_(ids))
            .order_by(*_EVENT_ORDER)
        ):
            loaded.histories[event.spend_request_id].append(_history_entry(event))
    return loaded


def answer_bytes(wire: WireSpendRequest) -> bytes:
    """The JSON body the routes send for `wire` (`JSONResponse` of its
    `model_dump(mode="json", exclude_none=True)`, the same bytes), encoded by pydantic
    in one step: a batch of long-poll answers is rendered off the event loop."""
    return WireSpendRequest.__pydantic_serializer__.to_json(wire, exclude_none=True)


def to_wire_many(
    session: Session,
    rows: list[SpendRequest],
    *,
    settings: Any,
    history: bool = False,
    now: datetime | None = None,
) -> list[WireSpendRequest]:
    """`to_wire` for a list (no credentials revealed): two queries, not 2 per row."""
    now = now or utcnow()
    loaded = preload(session, [row.id for row in rows], history=history)
    return [
        to_wire(session, row, settings=settings, history=history, now=now, preloaded=loaded)
        for row in rows
    ]


def to_wire_new(session: Session, row: SpendRequest, *, settings: Any) -> WireSpendRequest:
    """`to_wire` for a request created in this transaction, without looking anything
    up: it has no credential unless it was approved as it was created, and its
    decision record is in the session (found there once flushed)."""
    if row.status == "approved":
        return to_wire(session, row, settings=settings)
    session.flush()
    decision = decision_of(session, row.id)  # the identity map: no query
    return to_wire(
        session, row, settings=settings, preloaded=Preloaded(decisions={row.id: decision})
    )


def credential_revealable(row: SpendRequest, status: str) -> bool:
    """The person approved exactly this purchase and it is still live."""
    return _revealable_hash(row, status) is not None


def _revealable_hash(row: BoundRequest, status: str) -> str | None:
    """`material_hash(row)` when the person approved exactly this purchase and it is
    still live, else None: computed once per answer, the issuer's check reuses it."""
    if status != "approved" or row.approval_hash is None:
        return None
    current = material_hash(row)
    return current if current == row.approval_hash else None


class CardFace(Protocol):
    """What the wire shows of an issued credential without revealing it."""

    @property
    def brand(self) -> str | None: ...
    @property
    def last4(self) -> str | None: ...


def to_wire(
    session: Session,
    row: Revealable,
    *,
    settings: Any,
    include: Iterable[str] = (),
    history: bool = False,
    now: datetime | None = None,
    preloaded: Preloaded | None = None,
) -> WireSpendRequest:
    now = now or utcnow()
    status = effective_status(row, now)
    wanted = set(include)
    credential: HeldCredential | None
    if preloaded is not None:
        credential = preloaded.credentials.get(row.id)
    else:
        credential = _credential(session, row.id)
    card = None
    token = None
    current = _revealable_hash(row, status) if wanted else None
    if current is not None:
        if "card" in wanted and row.credential_type == "card":
            card = issuing.reveal_card(
                session, row, settings=settings, credential=credential, current=current
            )
        if "shared_payment_token" in wanted and row.credential_type == "shared_payment_token":
            token = issuing.shared_payment_token(
                session, row, credential=credential, current=current
            )
    return wire_of(
        row,
        settings=settings,
        now=now,
        credential=credential,
        decision=_decision_of(session, row.id, preloaded),
        card=card,
        shared_payment_token=token,
        status_history=_history_of(session, row.id, preloaded) if history else None,
    )


class Renderable(Phased, Material, Protocol):
    """What `wire_of` reads of a request: a `SpendRequest`, or a row of its columns
    under the same names (the plain retrieve's). Its material fields, and these:"""

    @property
    def id(self) -> str: ...
    @property
    def context(self) -> str: ...
    @property
    def line_items(self) -> list[Any]: ...  # stored requests always have both lists
    @property
    def totals(self) -> list[Any]: ...
    @property
    def payment_status_details(self) -> dict[str, Any] | None: ...
    @property
    def status_details(self) -> dict[str, Any] | None: ...
    @property
    def request_metadata(self) -> dict[str, Any]: ...
    @property
    def test(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


class Revealable(Renderable, BoundRequest, Protocol):
    """What `to_wire` reads: what it shows, and what a reveal checks and audits."""


def wire_of(
    row: Renderable,
    *,
    settings: Any,
    now: datetime,
    credential: CardFace | None,
    decision: dict[str, Any] | None,
    card: Any = None,
    shared_payment_token: Any = None,
    status_history: list[dict[str, Any]] | None = None,
) -> WireSpendRequest:
    """The wire form of `row` from what was already loaded (no queries): `to_wire`
    gathers the rest, the plain retrieve reads it all in one statement."""
    status = effective_status(row, now)
    phase_deadline = deadline(row)
    shows_card = credential is not None and row.credential_type == "card"
    return WireSpendRequest(
        id=row.id,
        status=status,  # type: ignore[arg-type]
        merchant_name=row.merchant_name,
        merchant_url=row.merchant_url,
        context=row.context,
        amount=row.amount,
        currency=row.currency,
        line_items=row.line_items or [],
        totals=row.totals or [],
        payment_method=row.payment_method_id,
        payment_details=row.payment_method_id,
        credential_type=row.credential_type,  # type: ignore[arg-type]
        network_id=row.network_id,
        card_brand=credential.brand if shows_card and credential else None,
        card_last4=credential.last4 if shows_card and credential else None,
        approval_url=approval_url(settings, row.id),
        card=card,
        shared_payment_token=shared_payment_token,
        payment_status_details=(
            PaymentStatusDetails.model_validate(row.payment_status_details)
            if row.payment_status_details is not None
            else None
        ),
        status_details=(
            StatusDetails.model_validate(row.status_details)
            if row.status_details is not None
            else None
        ),
        metadata=row.request_metadata or {},
        # The deadline of the current phase (decision, then credential validity); the
        # agent's own deadline once the request is settled.
        expires_at=unix(phase_deadline if phase_deadline is not None else row.expires_at),
        created_at=iso(row.created_at),
        updated_at=iso(row.updated_at),
        livemode=not row.test,
        test=row.test,
        status_history=status_history,
        decision=decision,  # type: ignore[arg-type]
    )


def _decision_of(
    session: Session, spend_request_id: str, preloaded: Preloaded | None
) -> dict[str, Any] | None:
    if preloaded is not None and preloaded.decisions is not None:
        return preloaded.decisions.get(spend_request_id)
    return decision_of(session, spend_request_id)


def _history_of(
    session: Session, spend_request_id: str, preloaded: Preloaded | None
) -> list[dict[str, Any]]:
    if preloaded is not None and preloaded.histories is not None:
        return preloaded.histories.get(spend_request_id, [])
    return status_history(session, spend_request_id)
