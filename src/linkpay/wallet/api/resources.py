"""The agent's read-only views of the person's wallet :
payment details, shipping addresses, user info, transactions; plus
`POST /agent_observations` (the CLI's `report`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from linkpay.wallet.api.deps import AgentDep, PaymentsAgent, UserinfoAgent
from linkpay.wallet.deps import DbDep, ReadDbDep, UnitRoute
from linkpay.wallet.errors import ERROR_RESPONSES, InvalidRequest, NotFound, Unauthenticated
from linkpay.wallet.ids import new_id
from linkpay.wallet.store import models
from linkpay.wire import (
    Address,
    AgentObservation,
    BankAccountDetails,
    CardDetails,
    PaymentDetail,
    PaymentDetailsList,
    ShippingAddress,
    ShippingAddressList,
    Transaction,
    TransactionList,
    UserInfo,
)

router = APIRouter(tags=["wallet"], responses=ERROR_RESPONSES, route_class=UnitRoute)


class ObservationReceipt(BaseModel):
    id: str
    created_at: str


def _user(session: Session, user_id: str) -> models.User:
    user = session.get(models.User, user_id)
    if user is None:  # the person was deleted under a live token
        raise Unauthenticated("This login no longer exists")
    return user


@router.get("/payment-details", response_model=PaymentDetailsList, summary="Funding sources")
def list_payment_details(principal: PaymentsAgent, session: ReadDbDep) -> PaymentDetailsList:
    rows = session.scalars(
        select(models.PaymentMethod)
        .where(
            models.PaymentMethod.user_id == principal.user_id,
            models.PaymentMethod.removed_at.is_(None),
        )
        .order_by(models.PaymentMethod.is_default.desc(), models.PaymentMethod.created_at)
    ).all()
    return PaymentDetailsList(payment_details=[_payment_detail(row) for row in rows])


def _payment_detail(row: models.PaymentMethod) -> PaymentDetail:
    card = bank = None
    if row.type == "card":
        card = CardDetails(
            brand=row.brand or "unknown",
            last4=row.last4,
            exp_month=row.exp_month or 0,
            exp_year=row.exp_year or 0,
        )
    else:
        bank = BankAccountDetails(last4=row.last4, bank_name=row.bank_name)
    return PaymentDetail(
        id=row.id,
        type="card" if row.type == "card" else "bank_account",
        is_default=row.is_default,
        nickname=row.nickname,
        card_details=card,
        bank_account_details=bank,
    )


@router.get("/shipping_addresses", response_model=ShippingAddressList, summary="Shipping addresses")
def list_shipping_addresses(principal: PaymentsAgent, session: ReadDbDep) -> ShippingAddressList:
    rows = session.scalars(
        select(models.ShippingAddress)
        .where(models.ShippingAddress.user_id == principal.user_id)
        .order_by(models.ShippingAddress.is_default.desc(), models.ShippingAddress.created_at)
    ).all()
    return ShippingAddressList(
        shipping_addresses=[
            ShippingAddress(
                id=row.id,
                is_default=row.is_default,
                nickname=row.nickname,
                address=Address.model_validate(row.address or {}),
            )
            for row in rows
        ]
    )


@router.get("/userinfo", response_model=UserInfo, summary="Who the wallet belongs to")
def userinfo(principal: UserinfoAgent, session: ReadDbDep) -> UserInfo:
    user = _user(session, principal.user_id)
    first, last = user.first_name, user.last_name
    if user.name and not (first or last):
        first, _, last = user.name.partition(" ")
    return UserInfo(
        email=user.email,
        name=user.name,
        first_name=first or None,
        last_name=last or None,
        phone=user.phone,
    )


def _parse_when(value: str | None, param: str, *, end: bool) -> datetime | None:
    """Unix seconds, an ISO date (whole day, inclusive) or an ISO datetime."""
    if value is None or value == "":
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min, UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidRequest(
            f"{param}: expected unix seconds, YYYY-MM-DD or an ISO 8601 datetime",
            param=param,
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cursor(session: Session, user_id: str, txn_id: str, param: str) -> models.Transaction:
    row = session.get(models.Transaction, txn_id)
    if row is None or row.user_id != user_id:
        raise InvalidRequest(f"{param}: no such transaction", param=param)
    return row


@router.get(
    "/transactions",
    response_model=TransactionList,
    summary="Completed and attempted payments, newest first",
    description=(
        "Cursor pagination: `starting_after` (older than that id) or `ending_before` "
        "(newer than that id). `date_start` / `date_end` take unix seconds, YYYY-MM-DD "
        "(whole day) or ISO 8601. `sources[]` keeps transactions whose `source_id` or "
        "spend request id is listed."
    ),
)
def list_transactions(
    principal: AgentDep,
    session: ReadDbDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    starting_after: Annotated[str | None, Query(max_length=100)] = None,
    ending_before: Annotated[str | None, Query(max_length=100)] = None,
    date_start: Annotated[str | None, Query(max_length=40)] = None,
    date_end: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=60)] = None,
    origin: Annotated[str | None, Query(pattern="^(link|external_connection)$")] = None,
    sources: Annotated[list[str] | None, Query(alias="sources[]", max_length=50)] = None,
) -> TransactionList:
    if starting_after and ending_before:
        raise InvalidRequest(
            "starting_after: can't be combined with ending_before",
            param="starting_after",
        )
    T = models.Transaction
    conditions: list[Any] = [T.user_id == principal.user_id]
    start = _parse_when(date_start, "date_start", end=False)
    end = _parse_when(date_end, "date_end", end=True)
    if start is not None:
        conditions.append(T.created_at >= start)
    if end is not None:
        conditions.append(T.created_at <= end)
    if category:
        conditions.append(T.category == category)
    if origin:
        conditions.append(T.origin == origin)
    if sources:
        conditions.append(or_(T.source_id.in_(sources), T.spend_request_id.in_(sources)))
    newest_first = True
    if starting_after:
        c = _cursor(session, principal.user_id, starting_after, "starting_after")
        conditions.append(
            or_(T.created_at < c.created_at, and_(T.created_at == c.created_at, T.id < c.id))
        )
    elif ending_before:
        c = _cursor(session, principal.user_id, ending_before, "ending_before")
        conditions.append(
            or_(T.created_at > c.created_at, and_(T.created_at == c.created_at, T.id > c.id))
        )
        newest_first = False
    order = (T.created_at.desc(), T.id.desc()) if newest_first else (T.created_at, T.id)
    rows = list(session.scalars(select(T).where(*conditions).order_by(*order).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not newest_first:
        rows.reverse()
    return TransactionList(
        data=[
            Transaction(
                id=row.id,
                source_id=row.source_id,
                amount=row.amount,
                currency=row.currency,
                created_date=row.created_at.isoformat(),
                description=row.description or _fallback_description(row),
                origin="external_connection" if row.origin == "external_connection" else "link",
                category=row.category,
                status=row.status,
            )
            for row in rows
        ],
        has_more=has_more,
    )


def _fallback_description(row: models.Transaction) -> str:
    """Clients declare `description` a string: never send null."""
    if row.spend_request_id:
        return f"Payment for spend request {row.spend_request_id}"
    return "Payment"


@router.post(
    "/agent_observations",
    response_model=ObservationReceipt,
    summary="Report how a purchase attempt went (the CLI's `report`)",
)
def create_agent_observation(
    body: AgentObservation, principal: AgentDep, session: DbDep
) -> ObservationReceipt:
    if body.spend_request_id is not None:
        owner = session.scalars(
            select(models.SpendRequest.user_id).where(
                models.SpendRequest.id == body.spend_request_id
            )
        ).first()
        if owner != principal.user_id:
            raise NotFound("No such spend request", param="spend_request_id")
    row = models.AgentObservation(
        id=new_id("obs"),
        user_id=principal.user_id,
        body={**body.model_dump(mode="json"), "client_id": principal.client_id},
    )
    session.add(row)
    session.flush()
    return ObservationReceipt(id=row.id, created_at=row.created_at.isoformat())
