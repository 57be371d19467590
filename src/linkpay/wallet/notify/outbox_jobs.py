"""Notifications through the durable outbox (`wallet.jobs`).

The spend service enqueues one `notify.fanout` job in the transaction that asks the
person to decide, so the notification exists exactly when the request does, survives a
crash of any process, and is sent by whichever worker claims it. The fan-out job, run
by a worker, looks up the person's channels and enqueues one delivery job per channel
(`notify.email`, `notify.push`, `notify.apprise`), each keyed by the event and the
channel, so a fan-out retried after a crash creates each delivery once. Each delivery
then retries on its own with backoff.

Secrets stay out of the outbox: apprise URLs are decrypted when sent, push endpoints
are read from their row. Sign-in links (one-time tokens) are never queued here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from linkpay.wallet.jobs import outbox
from linkpay.wallet.jobs.worker import Handler
from linkpay.wallet.notify.channels import operator_urls, send_apprise
from linkpay.wallet.notify.mail import email_enabled, send_email
from linkpay.wallet.notify.messages import Message
from linkpay.wallet.notify.vault import open_channel_url
from linkpay.wallet.notify.webpush import SubscriptionGone, send_push
from linkpay.wallet.store.models import User
from linkpay.wallet.store.web_models import NotificationChannel, PushSubscription

log = logging.getLogger("linkpay.wallet.notify")

FANOUT = "notify.fanout"
EMAIL = "notify.email"
PUSH = "notify.push"
APPRISE = "notify.apprise"


def _message_fields(message: Message) -> dict[str, str]:
    return {"title": message.title, "body": message.body, "url": message.url, "tag": message.tag}


def enqueue_notification(session: Session, user_id: str | None, message: Message) -> None:
    """In the caller's transaction: notify `user_id` (None: the only person, if one)."""
    event = secrets.token_hex(8)
    outbox.enqueue(
        session,
        FANOUT,
        {"event": event, "user_id": user_id, "message": _message_fields(message)},
        dedupe_key=f"{event}:fanout",
    )


def _message_id(event: str, to: str) -> str:
    """The same for every attempt of one delivery, in any process."""
    digest = hashlib.sha256(to.encode()).hexdigest()[:12]
    return f"<{event}.{digest}@linkpay.local>"


def _recipients(session: Session, user_id: str | None) -> list[User]:
    if user_id is not None:
        user = session.get(User, user_id)
        return [user] if user is not None else []
    users = list(session.scalars(select(User).limit(2)))
    return users if len(users) == 1 else []  # a shared wallet: tell nobody


def handlers(settings: Any) -> dict[str, Handler]:
    """The job handlers for notifications, bound to the wallet's settings."""

    def fanout(session: Session, payload: dict[str, Any]) -> None:
        event, message = payload["event"], payload["message"]
        for user in _recipients(session, payload.get("user_id")):
            if email_enabled(settings) and user.email:
                outbox.enqueue(
                    session,
                    EMAIL,
                    {"event": event, "to": user.email, "message": message},
                    dedupe_key=f"{event}:email:{user.id}",
                )
            for sub_id in session.scalars(
                select(PushSubscription.id).where(PushSubscription.user_id == user.id)
            ):
                outbox.enqueue(
                    session,
                    PUSH,
                    {"subscription_id": sub_id, "message": message},
                    dedupe_key=f"{event}:push:{sub_id}",
                )
            for channel_id in session.scalars(
                select(NotificationChannel.id).where(NotificationChannel.user_id == user.id)
            ):
                outbox.enqueue(
                    session,
                    APPRISE,
                    {"channel_id": channel_id, "message": message},
                    dedupe_key=f"{event}:apprise:{channel_id}",
                )
        for index, _url in enumerate(operator_urls(settings)):
            outbox.enqueue(
                session,
                APPRISE,
                {"operator_index": index, "message": message},
                dedupe_key=f"{event}:apprise:operator{index}",
            )

    def email(_session: Session, payload: dict[str, Any]) -> None:
        message = Message(**payload["message"])
        send_email(
            settings,
            to=payload["to"],
            subject=message.title,
            text=message.email_text(),
            message_id=_message_id(payload["event"], payload["to"]),
        )

    def push(session: Session, payload: dict[str, Any]) -> None:
        sub = session.get(PushSubscription, payload["subscription_id"])
        if sub is None:
            return  # unsubscribed since: nothing to send
        subscription = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        try:
            send_push(settings, subscription, Message(**payload["message"]).push_payload())
        except SubscriptionGone:
            session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
            log.info("push subscription %s is gone; removed", sub.id)

    def apprise(session: Session, payload: dict[str, Any]) -> None:
        message = Message(**payload["message"])
        if "operator_index" in payload:
            urls = operator_urls(settings)
            if payload["operator_index"] >= len(urls):
                return  # the operator changed the list since
            url = urls[payload["operator_index"]]
        else:
            channel = session.get(NotificationChannel, payload["channel_id"])
            if channel is None:
                return  # the person removed it since
            url = open_channel_url(settings.card_vault(), channel.id, channel.url_ciphertext)
        send_apprise(url, title=message.title, body=f"{message.body}\n{message.url}")

    return {FANOUT: fanout, EMAIL: email, PUSH: push, APPRISE: apprise}
