"""The wallet's own pages: what waits for the person, what happened, which agents are
connected, funding sources, limits and the "stop everything" switch. Every change goes
through a service function (spend.service, auth.tokens, accounts, web.account)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.text import clean_text
from linkpay.wallet.connections import agent_summaries
from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.models import User
from linkpay.wallet.web import account
from linkpay.wallet.web.approval_view import STATUS_TEXT
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebRoute, redirect, render
from linkpay.wallet.web.pages_confirm import save_change
from linkpay.wallet.web.present import domain_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "paused": "Everything is stopped: pending requests were denied, unused credentials "
    "voided, and new requests are refused until you resume.",
    "resumed": "Spending resumed. Agents can ask for purchases again.",
    "revoked": "The agent was disconnected. Its tokens stopped working at once.",
    "limit": "Limit saved.",
}


def _request_rows(
    db: Session, settings: Settings, user_id: str, *, history: bool
) -> list[dict[str, Any]]:
    from linkpay.wallet.spend.service import list_for_user, to_wire

    rows = []
    found = list(list_for_user(db, user_id, include_history=history))
    agents = agent_summaries(db, user_id, [r.token_family_id for r in found if r.token_family_id])
    for row in found:
        wire = to_wire(db, row, settings=settings)
        status = wire.status
        agent = agents.get(row.token_family_id or "")
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
                "agent": clean_text(agent.label) if agent else "An agent",
                "agent_connected_at": agent.connected_at if agent else None,
                "agent_purchases": agent.purchases_asked if agent else None,
                # Who decided (the person or one of their rules) and why.
                "decision": wire.decision,
            }
        )
    return rows


def _waiting_logins(db: Session) -> list[dict[str, Any]]:
    """Agents that asked to connect and wait for someone to enter their phrase (the
    phrase itself is never shown: the person types what the agent shows)."""
    from linkpay.wallet.store.models import DeviceGrant, utcnow

    grants = db.scalars(
        select(DeviceGrant)
        .where(DeviceGrant.status == "pending", DeviceGrant.expires_at > utcnow())
        .order_by(DeviceGrant.created_at.desc())
        .limit(10)
    ).all()
    return [
        {
            "label": clean_text(g.connection_label or g.client_hint or g.client_id),
            "created_at": g.created_at,
            "expires_at": g.expires_at,
        }
        for g in grants
    ]


@router.get("/")
def home(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep, notice: str | None = None
) -> Response:
    rows = _request_rows(db, settings, person.user_id, history=False)
    user = db.get(User, person.user_id)
    paused = bool(user and user.spending_paused)
    logins = _waiting_logins(db)
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
            "logins": logins,
            "notice": NOTICES.get(notice or ""),
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
def save_limits(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    max_amount: Annotated[str, Form()] = "",
) -> Response:
    """The per-request limit, saved like the rules page's limits: raising it needs a
    fresh confirmation (the confirm page), lowering it does not."""
    try:
        cents = account.parse_amount(max_amount)
        if not 1 <= cents <= account.MAX_LIMIT:
            raise ValueError(account.LIMIT_ERROR)
        payload = json.dumps({"per_request": cents})
        return save_change(request, db, person, settings, "limits", payload, back="/limits")
    except ValueError:
        return redirect("/limits?error=invalid")


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
