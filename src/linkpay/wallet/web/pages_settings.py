"""Settings pages: where notifications go (browsers subscribed to web push, apprise
URLs, email status) and how the person signs in (passkeys, password, sessions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from sqlalchemy import delete, select
from starlette.responses import JSONResponse, Response

from linkpay.wallet.ids import new_id
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.web_models import NotificationChannel, PushSubscription
from linkpay.wallet.web import passkeys, signin
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.sessions import (
    active_sessions,
    check_csrf,
    require_person,
    revoke_user_sessions,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "channel": "Notification channel added.",
    "removed": "Removed.",
    "test": "Test notification sent to every channel.",
    "passkey": "Passkey enrolled. You can now sign in with it.",
    "password": "Password saved.",
    "sessions": "Every other browser was signed out.",
}


@router.get("/notifications")
def notifications_page(
    request: Request, notice: str | None = None, error: str | None = None
) -> Response:
    from linkpay.wallet.notify.mail import email_enabled
    from linkpay.wallet.notify.webpush import vapid_public_key

    settings = request.app.state.settings
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        channels = list(
            db.scalars(
                select(NotificationChannel)
                .where(NotificationChannel.user_id == person.user_id)
                .order_by(NotificationChannel.created_at)
            )
        )
        subs = list(
            db.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id == person.user_id)
                .order_by(PushSubscription.created_at)
            )
        )
    return render(
        request,
        "notifications.html",
        {
            "title": "Notifications",
            "channels": channels,
            "subscriptions": subs,
            "email_enabled": email_enabled(settings),
            "vapid_key": vapid_public_key(settings),
            "notice": NOTICES.get(notice or ""),
            "error": "That URL is not one apprise understands." if error else None,
        },
    )


@router.post("/notifications/channels")
def add_channel(
    request: Request, url: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = ""
) -> Response:
    from linkpay.wallet.notify.channels import describe_apprise_url, validate_apprise_url
    from linkpay.wallet.notify.vault import encrypt_secret

    settings = request.app.state.settings
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        if validate_apprise_url(url) is not None:
            return redirect("/notifications?error=url")
        channel_id = new_id("nch")
        db.add(
            NotificationChannel(
                id=channel_id,
                user_id=person.user_id,
                label=describe_apprise_url(url),
                url_ciphertext=encrypt_secret(settings.card_key, channel_id, url.strip()),
            )
        )
    return redirect("/notifications?notice=channel")


@router.post("/notifications/channels/{channel_id}/remove")
def remove_channel(
    request: Request, channel_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        db.execute(
            delete(NotificationChannel).where(
                NotificationChannel.id == channel_id, NotificationChannel.user_id == person.user_id
            )
        )
    return redirect("/notifications?notice=removed")


@router.post("/notifications/test")
def test_notification(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    settings = request.app.state.settings
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
    request.app.state.notifier.spend_request_needs_approval(
        user_id=person.user_id,
        spend_request_id="test",
        approval_url=f"{settings.public_url}/",
        summary="This is a test notification.",
    )
    return redirect("/notifications?notice=test")


@router.post("/notifications/push/subscribe")
def push_subscribe(request: Request, subscription: Annotated[dict[str, Any], Body()]) -> Response:
    """Called by app.js with `PushSubscription.toJSON()` (+ X-CSRF-Token)."""
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") or {}
    # Push services are https; plain http only to loopback, and only in test mode.
    schemes = (
        ("https://", "http://127.0.0.1:") if request.app.state.settings.test_mode else ("https://",)
    )
    if (
        not isinstance(endpoint, str)
        or not endpoint.startswith(schemes)
        or len(endpoint) > 2048
        or not isinstance(keys, dict)
        or not isinstance(keys.get("p256dh"), str)
        or not isinstance(keys.get("auth"), str)
    ):
        return JSONResponse({"error": "not a push subscription"}, status_code=400)
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, None)
        db.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
        db.add(
            PushSubscription(
                id=new_id("wps"),
                user_id=person.user_id,
                endpoint=endpoint,
                p256dh=keys["p256dh"][:200],
                auth=keys["auth"][:100],
                user_agent=(request.headers.get("user-agent") or "")[:300],
            )
        )
    return JSONResponse({"ok": True})


@router.post("/notifications/push/{subscription_id}/remove")
def push_remove(
    request: Request, subscription_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        db.execute(
            delete(PushSubscription).where(
                PushSubscription.id == subscription_id, PushSubscription.user_id == person.user_id
            )
        )
    return redirect("/notifications?notice=removed")


# --- security ------------------------------------------------------------------------


@router.get("/security")
def security_page(
    request: Request, notice: str | None = None, error: str | None = None
) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        keys = passkeys.list_passkeys(db, person.user_id)
        sessions = active_sessions(db, person.user_id)
        has_password = signin.has_password(db, person.user_id)
    return render(
        request,
        "security.html",
        {
            "title": "Sign-in and security",
            "passkeys": keys,
            "sessions": sessions,
            "current_session": person.session_hash,
            "has_password": has_password,
            "notice": NOTICES.get(notice or ""),
            "error": {
                "short": f"Use at least {signin.MIN_PASSWORD_LENGTH} characters.",
                "current": "Your current password is not right.",
                "mismatch": "The two new passwords differ.",
            }.get(error or ""),
        },
    )


@router.post("/security/password")
def save_password(
    request: Request,
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        if (
            signin.has_password(db, person.user_id)
            and signin.check_password(db, person.email, current_password[:1000]) != person.user_id
        ):
            return redirect("/security?error=current")
        if new_password != confirm_password:
            return redirect("/security?error=mismatch")
        try:
            signin.set_password(db, person.user_id, new_password)
        except ValueError:
            return redirect("/security?error=short")
    return redirect("/security?notice=password")


@router.post("/security/passkeys/{passkey_id}/remove")
def remove_passkey(
    request: Request, passkey_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        if not passkeys.remove_passkey(db, person.user_id, passkey_id):
            raise WebError(404, "Not found", "No such passkey.")
    return redirect("/security?notice=removed")


@router.post("/security/sessions/revoke-others")
def revoke_other_sessions(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        revoke_user_sessions(db, person.user_id, keep=person.session_hash)
    return redirect("/security?notice=sessions")
