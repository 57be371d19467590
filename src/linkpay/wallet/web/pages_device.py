"""`GET /device` (the verification URI of the device login): the person types (or the
`?code=` of verification_uri_complete pre-fills) the phrase their agent shows, sees what
asks to connect (label, client, requested scopes) and approves or denies. Wrong phrases
count against a per-person budget (auth.device rate-limits them)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.text import clean_text
from linkpay.wallet.auth.device import approve_device_grant, deny_device_grant, lookup_pending_grant
from linkpay.wallet.deps import DbDep
from linkpay.wallet.rate_limits import RateLimiters
from linkpay.wallet.store.models import DeviceGrant
from linkpay.wallet.web.deps import LimitersDep, PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SCOPE_TEXT = {
    "userinfo:read": "See your name and email address",
    "payment_methods.agentic": "See your payment methods (brand and last 4 digits only) and "
    "ask you to approve purchases",
    "spend_requests:approve": "Approve purchases on your behalf without asking you",
}


def _scopes(scope: str) -> list[dict[str, str | bool]]:
    return [
        {
            "scope": clean_text(s),
            "text": SCOPE_TEXT.get(s, "Unknown permission"),
            "risky": s == "spend_requests:approve" or s not in SCOPE_TEXT,
        }
        for s in (scope or "").split()
    ]


def _lookup(db: Session, limiters: RateLimiters, user_id: str, code: str) -> DeviceGrant | None:
    """Misses count against the person's guess budget (429 once exhausted)."""
    return lookup_pending_grant(db, code[:100], attempt_key=user_id, limiter=limiters.device_phrase)


@router.get("/device")
def device_page(
    request: Request,
    person: PersonDep,
    db: DbDep,
    limiters: LimitersDep,
    code: str | None = None,
) -> Response:
    grant = None
    error = None
    if code:
        grant = _lookup(db, limiters, person.user_id, code)
        if grant is None:
            error = (
                "No agent is waiting with that phrase. Check the words your agent "
                "shows (they expire after a few minutes)."
            )
    context: dict[str, Any] = {"title": "Connect an agent", "code": code or "", "error": error}
    if grant is not None:
        # As the agent shows it (words joined by hyphens), not as it was typed.
        words = [w for w in re.split(r"[\s\-_.]+", (code or "").lower()) if w]
        context["code"] = "-".join(words)
        context["grant"] = {
            "label": clean_text(grant.connection_label) or "An unnamed agent",
            "client": clean_text(grant.client_hint or grant.client_id),
            "scopes": _scopes(grant.scope),
            "expires_at": grant.expires_at,
        }
    return render(request, "device.html", context, status_code=404 if error else 200)


@router.post("/device/decide")
def device_decide(
    request: Request,
    person: PersonDep,
    db: DbDep,
    limiters: LimitersDep,
    user_code: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> Response:
    if decision not in ("approve", "deny"):
        raise WebError(400, "Unknown decision", "Choose Approve or Deny.")
    decide = approve_device_grant if decision == "approve" else deny_device_grant
    grant = decide(
        db, user_id=person.user_id, user_code=user_code[:100], limiter=limiters.device_phrase
    )
    label = clean_text(grant.connection_label) or "The agent"
    return render(
        request,
        "device_done.html",
        {
            "title": "Connected" if decision == "approve" else "Refused",
            "approved": decision == "approve",
            "label": label,
        },
    )
