"""Saving a policy change (rules, budgets, limits) from the web app, with the fresh
confirmation a loosening needs: the confirm page carries the change, and the person
confirms with their passkey (when one is enrolled) or else their password, then the
change is saved in the same step. The rules page and the older limits page both save
through `save_change`, so a loosening asks the same wherever it is made."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Form, Request
from starlette.responses import JSONResponse, Response

from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.policy import edit, stepup
from linkpay.wallet.policy.limits import operator_maximums
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.models import User, utcnow
from linkpay.wallet.web import passkeys
from linkpay.wallet.web.deps import LimitersDep, PersonDep, count_attempt, refuse_agent_tokens
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.sessions import (
    Person,
    remember_challenge,
    session_data,
    set_session_data,
    take_challenge,
)

router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(refuse_agent_tokens)]
)
WHAT = ("rules", "budgets", "limits")
# Where the person goes back to after saving, and the notice shown there.
BACK = {"/rules": ("saved", "confirmed"), "/limits": ("limit", "limit")}
_CHALLENGE = "webauthn_stepup"


def parse_list(payload: str) -> list[Any]:
    raw = json.loads(payload or "[]")
    if not isinstance(raw, list):
        raise ValueError("expected a JSON list")
    return raw


def apply_change(
    db: Any, person: Person, settings: Settings, what: str, payload: str, confirmed: str | None
) -> None:
    """Raises `edit.ConfirmationRequired` for an unconfirmed loosening, ValueError (or
    pydantic's ValidationError) for a change that isn't valid."""
    actor = f"person:{person.user_id}"
    if what == "rules":
        edit.set_rules(db, person.user_id, parse_list(payload), actor=actor, confirmed_by=confirmed)
    elif what == "budgets":
        edit.set_budgets(
            db, person.user_id, parse_list(payload), actor=actor, confirmed_by=confirmed
        )
    else:
        changes = json.loads(payload or "{}")
        if not isinstance(changes, dict):
            raise ValueError("expected a JSON object of limits")
        edit.set_limits(
            db,
            person.user_id,
            changes,
            maximum=operator_maximums(settings),
            actor=actor,
            confirmed_by=confirmed,
        )


def save_change(
    request: Request,
    db: Any,
    person: Person,
    settings: Settings,
    what: str,
    payload: str,
    *,
    back: str = "/rules",
    via_confirm: bool = False,
    password_tried: bool = False,
) -> Response:
    """Save the change, or show the confirm page (403) when it loosens and this web
    session holds no fresh confirmation. ValueError propagates to the caller's page."""
    confirmed = stepup.confirmation(db, person.session_hash, utcnow())
    try:
        apply_change(db, person, settings, what, payload, confirmed)
    except edit.ConfirmationRequired as exc:
        user = db.get(User, person.user_id)
        context = {
            "title": "Confirm it's you",
            "what": what,
            "payload": payload,
            "back": back,
            "reasons": exc.reasons,
            "passkey": stepup.has_passkey(db, person.user_id),
            "has_password": bool(user and user.password_hash),
            "wrong_password": password_tried,
        }
        return render(request, "rules_confirm.html", context, status_code=403)
    saved, confirmed_notice = BACK.get(back, BACK["/rules"])
    notice = confirmed_notice if via_confirm else saved
    return redirect(f"{back if back in BACK else '/rules'}?notice={notice}")


@router.post("/rules/confirm")
def confirm_change(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    limiters: LimitersDep,
    what: Annotated[str, Form()] = "",
    payload: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/rules",
) -> Response:
    """The confirm page's form: with a password (no passkey enrolled) it is checked and
    counts as the step-up; after a passkey step-up (see below) it carries no password."""
    if what not in WHAT:
        raise WebError(400, "Nothing to confirm", "Start again from the rules page.")
    tried = False
    if password and not stepup.has_passkey(db, person.user_id):
        from linkpay.wallet.web.signin import check_password

        count_attempt(request, limiters, "password")
        tried = True
        if check_password(db, person.email, password[:1000]) == person.user_id:
            data = stepup.stepped_up(session_data(db, person), "password", utcnow())
            set_session_data(db, person, data)
    try:
        return save_change(
            request,
            db,
            person,
            settings,
            what,
            payload,
            back=back if back in BACK else "/rules",
            via_confirm=True,
            password_tried=tried,
        )
    except ValueError as exc:
        raise WebError(400, "Not saved", f"The change is not valid: {exc}") from exc


@router.post("/rules/confirm/passkey/options")
def stepup_options(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep
) -> Response:
    """Options for `navigator.credentials.get`, limited to this person's passkeys."""
    options, challenge = passkeys.authentication_options(
        passkeys.browser_origin(request, settings), session=db, user_id=person.user_id
    )
    remember_challenge(db, person, _CHALLENGE, challenge)
    return JSONResponse(options)


@router.post("/rules/confirm/passkey")
def stepup_verify(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    limiters: LimitersDep,
    credential: Annotated[dict[str, Any], Body()],
) -> Response:
    """Verify the assertion; it must be one of this person's passkeys. The web session
    then counts as confirmed by passkey for the next few minutes."""
    count_attempt(request, limiters, "passkey")
    challenge = take_challenge(db, person, _CHALLENGE)
    if not challenge:
        return JSONResponse({"error": "The passkey prompt expired; try again."}, status_code=400)
    try:
        with db.begin_nested():
            user_id = passkeys.authenticate(
                db,
                credential=credential,
                challenge=challenge,
                origin=passkeys.browser_origin(request, settings),
            )
    except passkeys.PasskeyError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if user_id != person.user_id:
        return JSONResponse({"error": "That passkey belongs to someone else."}, status_code=400)
    data = stepup.stepped_up(session_data(db, person), "passkey", utcnow())
    set_session_data(db, person, data)
    return JSONResponse({"ok": True})
