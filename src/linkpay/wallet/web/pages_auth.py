"""Sign-in pages: the owner's one-time link, email + password, email magic links, and
passkeys; sign-out. A sign-in link is used by a POST from its page (a GET only shows
it), so mail scanners that prefetch links cannot burn it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from limits import parse, storage, strategies
from starlette.responses import JSONResponse, Response

from linkpay.wallet.store.db import transaction
from linkpay.wallet.web import passkeys, signin
from linkpay.wallet.web.http import WebError, WebRoute, client_address, redirect, render, safe_next
from linkpay.wallet.web.sessions import (
    SESSION_COOKIE,
    check_csrf,
    check_presession_csrf,
    clear_session_cookie,
    cookie_name,
    end_session_by_cookie,
    is_https,
    load_person,
    presession_token,
    require_person,
    session_data,
    set_presession_cookies,
    set_session_data,
    sign_value,
    start_session,
    unsign_value,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Password, email-link and passkey attempts per client address, counted by the app's
# shared limiter (`wallet.rate_limits`: across workers and hosts on PostgreSQL).
_ATTEMPTS = parse("20/10 minutes")
_PASSKEY_COOKIE = "linkpay_webauthn"


def _rate_limit(request: Request, kind: str) -> None:
    state = request.app.state
    limiter = getattr(state, "web_signin_limiter", None)
    if limiter is None:
        limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        state.web_signin_limiter = limiter
    if not limiter.hit(_ATTEMPTS, kind, client_address(request)):
        raise WebError(429, "Too many attempts", "Wait a few minutes and try again.")


def _origin(request: Request) -> str:
    """The origin the browser is on (public_url's scheme when behind a TLS proxy)."""
    from urllib.parse import urlsplit

    host = request.headers.get("host", request.url.netloc)
    public = urlsplit(str(request.app.state.settings.public_url))
    if public.netloc and public.netloc.lower() == host.lower():
        return f"{public.scheme}://{public.netloc}"
    return f"{request.url.scheme}://{host}"


def _signin_page(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    info: str | None = None,
    status_code: int = 200,
) -> Response:
    from linkpay.wallet.notify.mail import email_enabled

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
            "email_enabled": email_enabled(request.app.state.settings),
        },
        status_code=status_code,
    )
    set_presession_cookies(request, response, cookies)
    return response


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
    next_path = safe_next(next)
    with transaction(request.app.state.sessionmaker) as db:
        if load_person(db, request) is not None:
            return redirect(next_path)
    return _signin_page(request, next_path=next_path)


@router.get("/signin/{token}")
def signin_link_page(request: Request, token: str, next: str | None = None) -> Response:  # noqa: A002
    with transaction(request.app.state.sessionmaker) as db:
        row = signin.peek_signin_token(db, token)
        user = None
        if row is not None:
            from linkpay.wallet.store.models import User

            user = db.get(User, row.user_id)
    if row is None or user is None:
        raise WebError(
            410,
            "Link used or expired",
            "This sign-in link has already been used or has expired. Start "
            "`link-wallet serve` again for a new owner link, or sign in another way.",
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
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    check_presession_csrf(request, csrf_token)
    _rate_limit(request, "password")
    next_path = safe_next(next)
    with transaction(request.app.state.sessionmaker) as db:
        user_id = signin.check_password(db, email, password[:1000])
        if user_id is None:
            error = "That email and password do not match."
        else:
            response = redirect(next_path)
            start_session(db, request, response, user_id=user_id, auth_method="password")
            return response
    return _signin_page(request, next_path=next_path, error=error, status_code=401)


@router.post("/signin/email")
def signin_email(
    request: Request,
    email: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    from linkpay.wallet.notify.mail import email_enabled

    check_presession_csrf(request, csrf_token)
    _rate_limit(request, "email")
    settings = request.app.state.settings
    next_path = safe_next(next)
    if not email_enabled(settings):
        raise WebError(400, "Email is off", "This wallet has no email server configured.")
    with transaction(request.app.state.sessionmaker) as db:
        user = signin.find_user_by_email(db, email)
        url = None
        if user is not None:
            url = signin.create_signin_link(
                db,
                user.id,
                settings,
                kind="email",
                next_path=next_path if next_path != "/" else None,
            )
            address = user.email
    if url is not None:
        _send_signin_email(request, address, url)
    # Same answer whether or not the address has an account (no account discovery).
    return _signin_page(
        request,
        next_path=next_path,
        info="If that address has a wallet here, a sign-in link is on its way.",
    )


def _send_signin_email(request: Request, address: str, url: str) -> None:
    notifier = request.app.state.notifier
    sender = getattr(notifier, "send_signin_email", None)
    if sender is not None:
        sender(email=address, url=url)
        return
    from linkpay.wallet.notify.dispatch import Dispatcher
    from linkpay.wallet.notify.mail import send_email
    from linkpay.wallet.notify.messages import signin_message

    message = signin_message(url=url)
    Dispatcher().submit(
        "email:signin",
        lambda: send_email(
            request.app.state.settings, to=address, subject=message.title, text=message.email_text()
        ),
    )


@router.post("/signin/{token}")
def signin_with_link(
    request: Request,
    token: str,
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    check_presession_csrf(request, csrf_token)
    with transaction(request.app.state.sessionmaker) as db:
        kind_row = signin.peek_signin_token(db, token)
        user_id = signin.consume_signin_token(db, token)
        if user_id is None:
            raise WebError(
                410,
                "Link used or expired",
                "This sign-in link has already been used or has expired.",
            )
        response = redirect(safe_next(next))
        method = "email" if kind_row is not None and kind_row.kind == "email" else "link"
        start_session(db, request, response, user_id=user_id, auth_method=method)
    return response


@router.post("/signout")
def signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        raw = request.cookies.get(cookie_name(request, SESSION_COOKIE))
        if raw:
            end_session_by_cookie(db, raw)
    response = redirect("/signin")
    clear_session_cookie(request, response)
    return response


# --- passkeys ----------------------------------------------------------------------


@router.post("/signin/passkey/options")
def passkey_signin_options(request: Request) -> Response:
    check_presession_csrf(request, request.headers.get("x-csrf-token"))
    options, challenge = passkeys.authentication_options(_origin(request))
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
    request: Request, credential: Annotated[dict[str, Any], Body()], next: str | None = None
) -> Response:  # noqa: A002
    check_presession_csrf(request, request.headers.get("x-csrf-token"))
    _rate_limit(request, "passkey")
    challenge = unsign_value(
        request, "webauthn-signin", request.cookies.get(cookie_name(request, _PASSKEY_COOKIE))
    )
    if challenge is None:
        return JSONResponse({"error": "The passkey prompt expired; try again."}, status_code=400)
    with transaction(request.app.state.sessionmaker) as db:
        try:
            user_id = passkeys.authenticate(
                db, credential=credential, challenge=challenge, origin=_origin(request)
            )
        except passkeys.PasskeyError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        response = JSONResponse({"redirect": safe_next(next)})
        start_session(db, request, response, user_id=user_id, auth_method="passkey")
    response.delete_cookie(cookie_name(request, _PASSKEY_COOKIE), path="/")
    return response


@router.post("/passkeys/options")
def passkey_register_options(request: Request) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, None)
        options, challenge = passkeys.registration_options(
            db, user_id=person.user_id, user_name=person.email, origin=_origin(request)
        )
        data = session_data(db, person)
        data["webauthn_register"] = challenge
        set_session_data(db, person, data)
    return JSONResponse(options)


@router.post("/passkeys/register")
def passkey_register(request: Request, credential: Annotated[dict[str, Any], Body()]) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, None)
        data = session_data(db, person)
        challenge = data.pop("webauthn_register", None)
        set_session_data(db, person, data)
        if not challenge:
            return JSONResponse({"error": "Start again."}, status_code=400)
        try:
            with db.begin_nested():
                passkeys.register(
                    db,
                    user_id=person.user_id,
                    credential=credential,
                    challenge=challenge,
                    origin=_origin(request),
                )
        except passkeys.PasskeyError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"redirect": "/security?notice=passkey"})
