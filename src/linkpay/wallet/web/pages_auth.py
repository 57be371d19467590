"""Sign-in pages: the owner's one-time link, email + password, email magic links, and
passkeys; sign-out. A sign-in link is used by a POST from its page (a GET only shows
it), so mail scanners that prefetch links cannot burn it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from starlette.responses import JSONResponse, Response

from linkpay.wallet.deps import DbDep, NotifierDep, SettingsDep
from linkpay.wallet.notify.mail import email_enabled
from linkpay.wallet.settings import Settings
from linkpay.wallet.spend.after_commit import call_after_commit
from linkpay.wallet.store.models import User
from linkpay.wallet.web import passkeys, signin
from linkpay.wallet.web.deps import LimitersDep, PersonDep, PreSignInDep, count_attempt
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render, safe_next
from linkpay.wallet.web.sessions import (
    SESSION_COOKIE,
    clear_session_cookie,
    cookie_name,
    end_session_by_cookie,
    is_https,
    load_person,
    presession_token,
    remember_challenge,
    set_presession_cookies,
    sign_value,
    start_session,
    take_challenge,
    unsign_value,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_PASSKEY_COOKIE = "linkpay_webauthn"


def _signin_page(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    error: str | None = None,
    info: str | None = None,
    status_code: int = 200,
) -> Response:
    cookies: dict[str, str] = {}
    token = presession_token(request, cookies)
    response = render(
        request,
        "signin.html",
        {
            "title": "Sign in",
            "pre_csrf": token,
            "next": next_path,
            "error": error,
            "info": info,
            "email_enabled": email_enabled(settings),
        },
        status_code=status_code,
    )
    set_presession_cookies(request, response, cookies)
    return response


@router.get("/signin")
def signin_page(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    next: str | None = None,  # noqa: A002
) -> Response:
    next_path = safe_next(next)
    if load_person(db, request) is not None:
        return redirect(next_path)
    return _signin_page(request, settings, next_path=next_path)


@router.get("/signin/{token}")
def signin_link_page(
    request: Request,
    token: str,
    db: DbDep,
    next: str | None = None,  # noqa: A002
) -> Response:
    row = signin.peek_signin_token(db, token)
    user = db.get(User, row.user_id) if row is not None else None
    if row is None or user is None:
        raise WebError(
            410,
            "Link used or expired",
            "This sign-in link has already been used or has expired. Each link works once. "
            "On the wallet's machine, run `link-wallet signin-link` for a fresh one "
            "(add `--send` to email it), or sign in another way below.",
        )
    cookies: dict[str, str] = {}
    pre = presession_token(request, cookies)
    response = render(
        request,
        "signin_link.html",
        {
            "title": "Sign in",
            "email": user.email,
            "token": token,
            "pre_csrf": pre,
            "next": safe_next(next),
        },
    )
    set_presession_cookies(request, response, cookies)
    return response


@router.post("/signin/password")
def signin_password(
    request: Request,
    _pre: PreSignInDep,
    db: DbDep,
    settings: SettingsDep,
    limiters: LimitersDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    count_attempt(request, limiters, "password")
    next_path = safe_next(next)
    user_id = signin.check_password(db, email, password[:1000])
    if user_id is not None:
        response = redirect(next_path)
        start_session(db, request, response, user_id=user_id, auth_method="password")
        return response
    error = "That email and password do not match."
    return _signin_page(request, settings, next_path=next_path, error=error, status_code=401)


@router.post("/signin/email")
def signin_email(
    request: Request,
    _pre: PreSignInDep,
    db: DbDep,
    settings: SettingsDep,
    limiters: LimitersDep,
    notifier: NotifierDep,
    email: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    count_attempt(request, limiters, "email")
    next_path = safe_next(next)
    if not email_enabled(settings):
        raise WebError(400, "Email is off", "This wallet has no email server configured.")
    user = signin.find_user_by_email(db, email)
    if user is not None:
        url = signin.create_signin_link(
            db,
            user.id,
            settings,
            kind="email",
            next_path=next_path if next_path != "/" else None,
        )
        address = user.email
        # Only once the link's row is committed, so the email never carries a dead link.
        call_after_commit(db, lambda: notifier.send_signin_email(email=address, url=url))
    # Same answer whether or not the address has an account (no account discovery).
    return _signin_page(
        request,
        settings,
        next_path=next_path,
        info="If that address has a wallet here, a sign-in link is on its way.",
    )


@router.post("/signin/{token}")
def signin_with_link(
    request: Request,
    token: str,
    _pre: PreSignInDep,
    db: DbDep,
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    kind_row = signin.peek_signin_token(db, token)
    user_id = signin.consume_signin_token(db, token)
    if user_id is None:
        raise WebError(
            410,
            "Link used or expired",
            "This sign-in link has already been used or has expired. Each link works once. "
            "On the wallet's machine, run `link-wallet signin-link` for a fresh one "
            "(add `--send` to email it), or sign in another way below.",
        )
    response = redirect(safe_next(next))
    method = "email" if kind_row is not None and kind_row.kind == "email" else "link"
    start_session(db, request, response, user_id=user_id, auth_method=method)
    return response


@router.post("/signout")
def signout(request: Request, person: PersonDep, db: DbDep) -> Response:
    raw = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if raw:
        end_session_by_cookie(db, raw)
    response = redirect("/signin")
    clear_session_cookie(request, response)
    return response


# --- passkeys ----------------------------------------------------------------------


@router.post("/signin/passkey/options")
def passkey_signin_options(request: Request, _pre: PreSignInDep, settings: SettingsDep) -> Response:
    options, challenge = passkeys.authentication_options(passkeys.browser_origin(request, settings))
    response = JSONResponse(options)
    response.set_cookie(
        cookie_name(request, _PASSKEY_COOKIE),
        sign_value(request, "webauthn-signin", challenge, 300),
        max_age=300,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return response


@router.post("/signin/passkey/verify")
def passkey_signin_verify(
    request: Request,
    _pre: PreSignInDep,
    db: DbDep,
    settings: SettingsDep,
    limiters: LimitersDep,
    credential: Annotated[dict[str, Any], Body()],
    next: str | None = None,  # noqa: A002
) -> Response:
    count_attempt(request, limiters, "passkey")
    challenge = unsign_value(
        request, "webauthn-signin", request.cookies.get(cookie_name(request, _PASSKEY_COOKIE))
    )
    if challenge is None:
        return JSONResponse({"error": "The passkey prompt expired; try again."}, status_code=400)
    try:
        user_id = passkeys.authenticate(
            db,
            credential=credential,
            challenge=challenge,
            origin=passkeys.browser_origin(request, settings),
        )
    except passkeys.PasskeyError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    response = JSONResponse({"redirect": safe_next(next)})
    start_session(db, request, response, user_id=user_id, auth_method="passkey")
    response.delete_cookie(cookie_name(request, _PASSKEY_COOKIE), path="/")
    return response


@router.post("/passkeys/options")
def passkey_register_options(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep
) -> Response:
    options, challenge = passkeys.registration_options(
        db,
        user_id=person.user_id,
        user_name=person.email,
        origin=passkeys.browser_origin(request, settings),
    )
    remember_challenge(db, person, "webauthn_register", challenge)
    return JSONResponse(options)


@router.post("/passkeys/register")
def passkey_register(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    credential: Annotated[dict[str, Any], Body()],
) -> Response:
    challenge = take_challenge(db, person, "webauthn_register")
    if not challenge:
        return JSONResponse({"error": "Start again."}, status_code=400)
    try:
        with db.begin_nested():
            passkeys.register(
                db,
                user_id=person.user_id,
                credential=credential,
                challenge=challenge,
                origin=passkeys.browser_origin(request, settings),
            )
    except passkeys.PasskeyError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"redirect": "/security?notice=passkey"})
