"""The wallet's own pages: what waits for the person, what happened, which agents are
connected, funding sources, limits and the "stop everything" switch. Every change goes
through a service function (spend.service, auth.tokens, accounts, web.account)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.issuing.connections import publishable_key
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.models import Charge, Credential, Merchant, PaymentMethod, User
from linkpay.wallet.web import account
from linkpay.wallet.web.approval_view import STATUS_TEXT
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.present import clean_text, domain_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "paused": "Everything is stopped: pending requests were denied, unused credentials "
    "voided, and new requests are refused until you resume.",
    "resumed": "Spending resumed. Agents can ask for purchases again.",
    "revoked": "The agent was disconnected. Its tokens stopped working at once.",
    "card": "Test card added.",
    "stripe_card": "Card saved with Stripe.",
    "limit": "Limit saved.",
}


def _request_rows(
    db: Session, settings: Settings, user_id: str, *, history: bool
) -> list[dict[str, Any]]:
    from linkpay.wallet.spend.service import list_for_user, to_wire

    rows = []
    for row in list_for_user(db, user_id, include_history=history):
        status = to_wire(db, row, settings=settings).status
        rows.append(
            {
                "id": row.id,
                "status": status,
                "status_text": STATUS_TEXT.get(status, status),
                "merchant": clean_text(row.merchant_name or row.network_id or "—"),
                "domain": domain_of(row.merchant_url),
                "amount": row.amount,
                "currency": row.currency,
                "created_at": row.created_at,
                "outcome": row.payment_status_details,
            }
        )
    return rows


@router.get("/")
def home(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep, notice: str | None = None
) -> Response:
    rows = _request_rows(db, settings, person.user_id, history=False)
    user = db.get(User, person.user_id)
    paused = bool(user and user.spending_paused)
    pending = [r for r in rows if r["status"] == "pending_approval"]
    others = [r for r in rows if r["status"] != "pending_approval"]
    return render(
        request,
        "home.html",
        {
            "title": "Your wallet",
            "pending": pending,
            "active": others,
            "paused": paused,
            "notice": NOTICES.get(notice or ""),
        },
    )


@router.get("/activity")
def activity(request: Request, person: PersonDep, db: DbDep, settings: SettingsDep) -> Response:
    rows = _request_rows(db, settings, person.user_id, history=True)
    # Every attempt to use one of the person's credentials, declines included.
    charges = db.execute(
        select(Charge, Merchant.name)
        .join(Credential, Charge.credential_id == Credential.id)
        .join(Merchant, Charge.merchant_id == Merchant.id)
        .where(Credential.user_id == person.user_id)
        .order_by(Charge.created_at.desc())
        .limit(200)
    ).all()
    return render(
        request,
        "activity.html",
        {
            "title": "Activity",
            "requests": rows,
            "charges": [
                {
                    "id": c.id,
                    "amount": c.amount,
                    "currency": c.currency,
                    "merchant": clean_text(name),
                    "status": c.status,
                    "decline_code": c.decline_code,
                    "created_at": c.created_at,
                    "spend_request_id": c.spend_request_id,
                }
                for c, name in charges
            ],
        },
    )


@router.get("/agents")
def agents(request: Request, person: PersonDep, db: DbDep, notice: str | None = None) -> Response:
    from linkpay.wallet.auth.tokens import list_connections

    connections = list_connections(db, person.user_id)
    return render(
        request,
        "agents.html",
        {
            "title": "Connected agents",
            "notice": NOTICES.get(notice or ""),
            "connections": [
                {
                    "family_id": c.family_id,
                    "label": clean_text(c.connection_label) or clean_text(c.client_id),
                    "client": clean_text(c.client_id),
                    "scope": clean_text(c.scope),
                    "connected_at": c.connected_at,
                    "last_refreshed_at": c.last_refreshed_at,
                }
                for c in connections
            ],
        },
    )


@router.post("/agents/{family_id}/revoke")
def revoke_agent(family_id: str, person: PersonDep, db: DbDep) -> Response:
    from linkpay.wallet.auth.tokens import revoke_family

    revoke_family(db, user_id=person.user_id, family_id=family_id[:60])
    return redirect("/agents?notice=revoked")


@router.get("/payment-methods")
def payment_methods(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    notice: str | None = None,
) -> Response:
    stripe_cards = publishable_key(db, settings) is not None
    methods = list(
        db.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.user_id == person.user_id)
            .order_by(PaymentMethod.created_at)
        )
    )
    return render(
        request,
        "payment_methods.html",
        {
            "title": "Payment methods",
            "methods": methods,
            "notice": NOTICES.get(notice or ""),
            "test_mode": settings.test_mode,
            "stripe_cards": stripe_cards,
        },
    )


@router.post("/payment-methods/test-card")
def add_test_card(person: PersonDep, db: DbDep, settings: SettingsDep) -> Response:
    from linkpay.wallet.accounts import add_test_card as add_card

    if not settings.test_mode:
        raise WebError(400, "Test mode is off", "Test cards exist only in test mode.")
    add_card(db, user_id=person.user_id)
    return redirect("/payment-methods?notice=card")


@router.get("/limits")
def limits_page(
    request: Request,
    person: PersonDep,
    db: DbDep,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    user = db.get(User, person.user_id)
    assert user is not None
    limit = user.max_amount_per_request
    paused = user.spending_paused
    return render(
        request,
        "limits.html",
        {
            "title": "Limits",
            "limit": limit,
            "limit_dollars": f"{limit / 100:.2f}",
            "max_dollars": f"{account.MAX_LIMIT / 100:.2f}",
            "paused": paused,
            "notice": NOTICES.get(notice or ""),
            "error": account.LIMIT_ERROR if error else None,
        },
        status_code=400 if error else 200,
    )


@router.post("/limits")
def save_limits(person: PersonDep, db: DbDep, max_amount: Annotated[str, Form()] = "") -> Response:
    try:
        account.set_request_limit(db, person.user_id, account.parse_amount(max_amount))
    except ValueError:
        return redirect("/limits?error=invalid")
    return redirect("/limits?notice=limit")


@router.post("/pause")
def pause(person: PersonDep, db: DbDep) -> Response:
    from linkpay.wallet.spend.service import pause_spending

    pause_spending(db, person.user_id)
    return redirect("/?notice=paused")


@router.post("/resume")
def resume(person: PersonDep, db: DbDep) -> Response:
    from linkpay.wallet.spend.service import resume_spending

    resume_spending(db, person.user_id)
    return redirect("/?notice=resumed")
