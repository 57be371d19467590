"""Settings pages: where notifications go (browsers subscribed to web push, apprise
URLs, email status) and how the person signs in (passkeys, password, sessions). The
pages parse and render; `notify.preferences` and `web.signin`/`passkeys` write."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from starlette.responses import JSONResponse, Response

from linkpay.wallet.deps import DbDep, NotifierDep, SettingsDep
from linkpay.wallet.notify import preferences
from linkpay.wallet.notify.mail import email_enabled
from linkpay.wallet.notify.webpush import vapid_public_key
from linkpay.wallet.web import passkeys, signin
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.sessions import active_sessions, revoke_user_sessions

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "channel": "Notification channel added.",
    "removed": "Removed.",
    "test": "Test notification sent to every channel.",
    "none": "No channel to send to yet: add one below, or allow notifications in this "
    "browser. Nothing was sent.",
    "passkey": "Passkey enrolled. You can now sign in with it.",
    "password": "Password saved.",
    "sessions": "Every other browser was signed out.",
}


@router.get("/notifications")
def notifications_page(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "notifications.html",
        {
            "title": "Notifications",
            "channels": preferences.list_channels(db, person.user_id),
            "subscriptions": preferences.list_push_subscriptions(db, person.user_id),
            "email_enabled": email_enabled(settings),
            "vapid_key": vapid_public_key(settings),
            "notice": NOTICES.get(notice or ""),
            "error": "That URL is not one apprise understands." if error else None,
        },
    )


@router.post("/notifications/channels")
def add_channel(
    person: PersonDep, db: DbDep, settings: SettingsDep, url: Annotated[str, Form()] = ""
) -> Response:
    if preferences.add_channel(db, settings.card_vault(), person.user_id, url) is not None:
        return redirect("/notifications?error=url")
    return redirect("/notifications?notice=channel")


@router.post("/notifications/channels/{channel_id}/remove")
def remove_channel(channel_id: str, person: PersonDep, db: DbDep) -> Response:
    preferences.remove_channel(db, person.user_id, channel_id)
    return redirect("/notifications?notice=removed")


@router.post("/notifications/test")
def test_notification(
    person: PersonDep, db: DbDep, settings: SettingsDep, notifier: NotifierDep
) -> Response:
    from sqlalchemy import func, select

    from linkpay.wallet.store.web_models import NotificationChannel, PushSubscription

    channels = sum(
        db.scalar(select(func.count()).select_from(model).where(model.user_id == person.user_id))
        or 0
        for model in (NotificationChannel, PushSubscription)
    )
    has_operator_urls = bool(settings.notify_urls.get_secret_value().strip())
    if not (channels or has_operator_urls or email_enabled(settings)):
        return redirect("/notifications?notice=none")
    notifier.spend_request_needs_approval(
        user_id=person.user_id,
        spend_request_id="test",
        approval_url=f"{settings.public_url}/",
        summary="This is a test notification.",
    )
    return redirect("/notifications?notice=test")


@router.post("/notifications/push/subscribe")
def push_subscribe(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    subscription: Annotated[dict[str, Any], Body()],
) -> Response:
    """Called by app.js with `PushSubscription.toJSON()` (+ X-CSRF-Token)."""
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") or {}
    # Push services are https; plain http only to loopback, and only in test mode.
    schemes = ("https://", "http://127.0.0.1:") if settings.test_mode else ("https://",)
    if (
        not isinstance(endpoint, str)
        or not endpoint.startswith(schemes)
        or len(endpoint) > 2048
        or not isinstance(keys, dict)
        or not isinstance(keys.get("p256dh"), str)
        or not isinstance(keys.get("auth"), str)
    ):
        return JSONResponse({"error": "not a push subscription"}, status_code=400)
    preferences.subscribe_browser(
        db,
        person.user_id,
        endpoint=endpoint,
        p256dh=keys["p256dh"],
        auth=keys["auth"],
        user_agent=request.headers.get("user-agent") or "",
    )
    return JSONResponse({"ok": True})


@router.post("/notifications/push/{subscription_id}/remove")
def push_remove(subscription_id: str, person: PersonDep, db: DbDep) -> Response:
    preferences.unsubscribe_browser(db, person.user_id, subscription_id)
    return redirect("/notifications?notice=removed")


# --- security ------------------------------------------------------------------------


@router.get("/security")
def security_page(
    request: Request,
    person: PersonDep,
    db: DbDep,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
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
    person: PersonDep,
    db: DbDep,
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form()] = "",
) -> Response:
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
def remove_passkey(passkey_id: str, person: PersonDep, db: DbDep) -> Response:
    if not passkeys.remove_passkey(db, person.user_id, passkey_id):
        raise WebError(404, "Not found", "No such passkey.")
    return redirect("/security?notice=removed")


@router.post("/security/sessions/revoke-others")
def revoke_other_sessions(person: PersonDep, db: DbDep) -> Response:
    revoke_user_sessions(db, person.user_id, keep=person.session_hash)
    return redirect("/security?notice=sessions")
