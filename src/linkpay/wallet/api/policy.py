"""The agent's view of the person's rules: the dry run (`POST /spend_requests/check`)
and what is left to spend (`GET /balances`). Agents read; only people change rules
(the web app and `link-wallet policy`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select

from linkpay.wallet.api.deps import AgentDep, PaymentsAgent
from linkpay.wallet.deps import DbDep, UnitRoute
from linkpay.wallet.errors import ERROR_RESPONSES
from linkpay.wallet.policy.figures import budget_figures, limit_figures
from linkpay.wallet.policy.service import load_policy, usage
from linkpay.wallet.spend import service
from linkpay.wallet.spend.validation import load_person
from linkpay.wallet.store.models import PaymentMethod, utcnow
from linkpay.wire import BalanceList, SpendRequestCheck, SpendRequestCreate

router = APIRouter(tags=["policy"], responses=ERROR_RESPONSES, route_class=UnitRoute)


@router.post(
    "/spend_requests/check",
    response_model=SpendRequestCheck,
    summary="Dry run: would this spend request be approved automatically, need approval "
    "or be refused, and what is left of each limit and budget",
)
def check_spend_request(
    body: SpendRequestCreate, principal: PaymentsAgent, session: DbDep
) -> JSONResponse:
    answer = service.check_spend_request(session, principal, body)
    payload = SpendRequestCheck.model_validate(answer).model_dump(mode="json", exclude_none=True)
    return JSONResponse(payload)


@router.get("/balances", response_model=BalanceList, summary="What the agent may still spend")
def list_balances(principal: AgentDep, session: DbDep) -> JSONResponse:
    """One balance per payment method: `current` is the most one request can ask for
    now (the per-request limit, capped by what is left today, in 30 days and in every
    wallet-wide or this agent's budget); `limits` lists each figure."""
    now = utcnow()
    person = load_person(session, principal.user_id)
    policy = load_policy(session, person)
    figures = limit_figures(
        policy, usage(session, person.id, principal.token_family_id, "usd", now), "usd"
    )
    budgets = budget_figures(session, person.id, policy, now)
    methods = session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.user_id == person.id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at)
    ).all()
    money = [f for f in figures if f["currency"]]
    mine = [
        b
        for b in budgets
        if b["currency"] == "usd"
        and (b["scope"] == "wallet" or b["target"] == principal.token_family_id)
    ]
    current = min([f["remaining"] for f in money] + [b["remaining"] for b in mine])
    limits: list[dict[str, Any]] = [
        {"type": f["type"], "amount": f["limit"], "remaining": f["remaining"], "currency": "usd"}
        for f in money
    ] + [
        {
            "type": f"budget_{b['period']}",
            "amount": b["amount"],
            "remaining": b["remaining"],
            "currency": b["currency"],
            "budget": b["id"],
            "scope": b["scope"],
            "target": b["target"],
            "resets_at": b["resets_at"],
        }
        for b in budgets
    ]
    data = [
        {
            "source_id": method.id,
            "type": "credit",
            "current": current,
            "currency": "usd",
            "as_of": now.isoformat().replace("+00:00", "Z"),
            "limits": limits,
        }
        for method in methods
    ]
    body = BalanceList.model_validate({"data": data, "has_more": False})
    return JSONResponse(body.model_dump(mode="json", exclude_none=True))
