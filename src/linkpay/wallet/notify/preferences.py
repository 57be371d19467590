"""Where a person's notifications go: their apprise channels (URLs sealed at rest) and
the browsers subscribed to web push. The settings pages call these; they write no rows
themselves."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from linkpay.wallet.crypto import CardVault
from linkpay.wallet.ids import new_id
from linkpay.wallet.notify.channels import describe_apprise_url, validate_apprise_url
from linkpay.wallet.notify.vault import seal_channel_url
from linkpay.wallet.store.web_models import NotificationChannel, PushSubscription


def list_channels(db: Session, user_id: str) -> list[NotificationChannel]:
    return list(
        db.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.user_id == user_id)
            .order_by(NotificationChannel.created_at)
        )
    )


def list_push_subscriptions(db: Session, user_id: str) -> list[PushSubscription]:
    return list(
        db.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.created_at)
        )
    )


def add_channel(db: Session, vault: CardVault, user_id: str, url: str) -> str | None:
    """Store an apprise URL (sealed); a message for the person if apprise can't use it."""
    problem = validate_apprise_url(url)
    if problem is not None:
        return problem
    channel_id = new_id("nch")
    db.add(
        NotificationChannel(
            id=channel_id,
            user_id=user_id,
            label=describe_apprise_url(url),
            url_ciphertext=seal_channel_url(vault, channel_id, url.strip()),
        )
    )
    return None


def remove_channel(db: Session, user_id: str, channel_id: str) -> None:
    db.execute(
        delete(NotificationChannel).where(
            NotificationChannel.id == channel_id, NotificationChannel.user_id == user_id
        )
    )


def subscribe_browser(
    db: Session, user_id: str, *, endpoint: str, p256dh: str, auth: str, user_agent: str
) -> None:
    """Remember a browser's push subscription (an endpoint belongs to one person)."""
    db.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    db.add(
        PushSubscription(
            id=new_id("wps"),
            user_id=user_id,
            endpoint=endpoint,
            p256dh=p256dh[:200],
            auth=auth[:100],
            user_agent=user_agent[:300],
        )
    )


def unsubscribe_browser(db: Session, user_id: str, subscription_id: str) -> None:
    db.execute(
        delete(PushSubscription).where(
            PushSubscription.id == subscription_id, PushSubscription.user_id == user_id
        )
    )
