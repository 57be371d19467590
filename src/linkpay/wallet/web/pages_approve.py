"""`GET /approve/{id}`: the trust anchor. Shows only what the wallet itself stored and
checked; the Approve/Deny form posts back the approval hash of what was shown, and the
spend service refuses the approval if the request changed since (409). Works without
JavaScript. Settled requests (approved, denied, expired, canceled, paid) say so and
offer no buttons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unavailable,
)
from linkpay.wallet.policy import quorum
from linkpay.wallet.settings import Settings
from linkpay.wallet.spend.service import (
    approve_spend_request,
    deny_spend_request,
    get_for_user,
    to_wire,
)
from linkpay.wallet.store.policy_models import SpendDecision
from linkpay.wallet.web.approval_view import ApprovalView, build_approval_view
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_NOTICES = {
    "approved": "Approved. The agent can now use a one-time credential for this purchase.",
    "denied": "Denied. The agent has been told, and nothing can be charged.",
    "voted": "Your approval is counted. The purchase waits for the other approvers.",
}


def _load(
    db: Session, request: Request, settings: Settings, person_id: str, spend_request_id: str
) -> ApprovalView:
    try:
        # A shared wallet's approvers and viewers see its owner's requests.
        owner_id = quorum.owner_for(db, spend_request_id[:60], person_id) or person_id
        row = get_for_user(db, owner_id, spend_request_id[:60])
    except NotFound:
        raise WebError(
            404, "Not found", "There is no such purchase request in your wallet."
        ) from None
    status = to_wire(db, row, settings=settings).status
    view = build_approval_view(db, row, status=status)
    request.state.votes = quorum_votes(db, row.id)
    return view


def quorum_votes(db: Session, spend_request_id: str) -> dict[str, object] | None:
    """Who has approved so far, when the request needs several approvers."""
    record = db.get(SpendDecision, spend_request_id)
    if record is None or record.approvers_required <= 1:
        return None
    return {"required": record.approvers_required, "votes": quorum.votes(db, spend_request_id)}


def _title(view: ApprovalView) -> str:
    """Only an open request asks for approval; a finished one is a record."""
    return "Approve a purchase" if view.decidable else "Purchase request"


@router.get("/approve/{spend_request_id}")
def approval_page(
    request: Request,
    spend_request_id: str,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    notice: str | None = None,
) -> Response:
    view = _load(db, request, settings, person.user_id, spend_request_id)
    return render(
        request,
        "approve.html",
        {
            "view": view,
            "notice": _NOTICES.get(notice or ""),
            "title": _title(view),
            "votes": getattr(request.state, "votes", None),
        },
    )


@router.post("/approve/{spend_request_id}")
def decide(
    request: Request,
    spend_request_id: str,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    decision: Annotated[str, Form()],
    approval_hash: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    error_text = None
    if decision not in ("approve", "deny"):
        raise WebError(400, "Unknown decision", "Choose Approve or Deny.")
    view = _load(db, request, settings, person.user_id, spend_request_id)
    if not view.decidable:
        return render(
            request,
            "approve.html",
            {
                "view": view,
                "title": _title(view),
                "error": "This request can no longer be decided.",
            },
            status_code=409,
        )
    if decision == "approve" and not approval_hash:
        raise WebError(
            400, "Missing confirmation", "Reload the page and review the purchase again."
        )
    owner_id = quorum.owner_for(db, view.id, person.user_id) or person.user_id
    verdict = decision
    try:
        with db.begin_nested():
            if quorum.quorum_of(db, view.id) is not None:  # one vote of several
                verdict = quorum.cast(
                    db,
                    wallet_user_id=owner_id,
                    spend_request_id=view.id,
                    voter_id=person.user_id,
                    verdict=decision,
                )
            elif quorum.role_in(db, owner_id, person.user_id) not in quorum.DECIDERS:
                raise WebError(403, "Viewers don't decide", "Ask an approver or the owner.")
            if verdict == "approve":
                approve_spend_request(
                    db,
                    user_id=owner_id,
                    spend_request_id=view.id,
                    settings=settings,
                    expected_hash=approval_hash,
                )
            elif verdict == "deny":
                deny_spend_request(
                    db, user_id=owner_id, spend_request_id=view.id, reason=reason[:1000]
                )
    # RateLimited: a limit or budget has no room; Unavailable: the card issuer is down.
    except (InvalidRequest, Forbidden, Conflict, RateLimited, Unavailable) as exc:
        error_text = (
            "This purchase changed after you opened it. Review it again before deciding."
            if exc.code == "spend_request_changed"
            else exc.message
        )
    if error_text is not None:
        fresh = _load(db, request, settings, person.user_id, spend_request_id)
        return render(
            request,
            "approve.html",
            {
                "view": fresh,
                "title": _title(fresh),
                "error": error_text,
            },
            status_code=409,
        )
    outcome = {"approve": "approved", "deny": "denied"}.get(verdict, "voted")
    return redirect(f"/approve/{view.id}?notice={outcome}")
