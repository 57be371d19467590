"""`GET /sources`: the person's funding sources, in the `{data, has_more}` page shape
Link-compatible clients expect. One source per payment method (the wallet holds only
display data: brand, last4, expiry, bank name), default first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.api.deps import PaymentsAgent
from linkpay.wallet.deps import ReadDbDep, UnitRoute
from linkpay.wallet.errors import ERROR_RESPONSES, InvalidRequest
from linkpay.wallet.store import models
from linkpay.wire import Source, SourceList

router = APIRouter(tags=["wallet"], responses=ERROR_RESPONSES, route_class=UnitRoute)


def source_of(row: models.PaymentMethod) -> Source:
    if row.type == "card":
        brand = row.brand or "card"
        return Source(
            id=row.id,
            name=row.nickname or f"{brand.title()} •••• {row.last4}",
            type="card",
            is_default=row.is_default,
            card={
                "brand": brand,
                "last4": row.last4,
                "exp_month": row.exp_month,
                "exp_year": row.exp_year,
            },
        )
    return Source(
        id=row.id,
        name=row.nickname or f"{row.bank_name or 'Bank account'} •••• {row.last4}",
        type="bank_account",
        is_default=row.is_default,
        bank_account={"last4": row.last4, "bank_name": row.bank_name},
    )


def _ordered(session: Session, user_id: str) -> list[models.PaymentMethod]:
    PM = models.PaymentMethod
    return list(
        session.scalars(
            select(PM)
            .where(PM.user_id == user_id)
            .order_by(PM.is_default.desc(), PM.created_at, PM.id)
        )
    )


@router.get(
    "/sources",
    response_model=SourceList,
    response_model_exclude_none=True,
    summary="Funding sources (one per payment method), default first",
    description="Cursor pagination over the default-first order: `starting_after` / "
    "`ending_before` take a source id.",
)
def list_sources(
    principal: PaymentsAgent,
    session: ReadDbDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    starting_after: Annotated[str | None, Query(max_length=100)] = None,
    ending_before: Annotated[str | None, Query(max_length=100)] = None,
) -> SourceList:
    if starting_after and ending_before:
        raise InvalidRequest(
            "starting_after: can't be combined with ending_before", param="starting_after"
        )
    rows = _ordered(session, principal.user_id)
    ids = [row.id for row in rows]
    cursor = starting_after or ending_before
    if cursor is not None and cursor not in ids:
        param = "starting_after" if starting_after else "ending_before"
        raise InvalidRequest(f"{param}: no such source", param=param)
    if starting_after:
        page = rows[ids.index(starting_after) + 1 :]
        has_more = len(page) > limit
        page = page[:limit]
    elif ending_before:
        before = rows[: ids.index(ending_before)]
        has_more = len(before) > limit
        page = before[-limit:]
    else:
        has_more = len(rows) > limit
        page = rows[:limit]
    return SourceList(data=[source_of(row) for row in page], has_more=has_more)
