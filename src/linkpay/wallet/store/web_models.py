"""Tables of the person's web app (sessions, sign-in links, passkeys, push subscriptions,
notification channels). Same `Base` as models.py; created by migration 0002_web.

Secrets follow the wallet rule: session ids and sign-in tokens are stored as SHA-256
hashes (they are 256-bit random, so a plain hash is enough); apprise URLs, which embed
third-party tokens, are stored AES-GCM encrypted with the wallet's card key.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base, UTCDateTime, utcnow

__all__ = [
    "Base",
    "NotificationChannel",
    "Passkey",
    "PushSubscription",
    "SignInToken",
    "WebSession",
]


class WebSession(Base):
    """A signed-in browser. The cookie holds the random id; the row holds its hash, so a
    database dump cannot be replayed as a cookie. Revocable by deleting/flagging the row.
    `data` keeps short-lived ceremony state (WebAuthn challenges)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Key for this session's CSRF synchronizer tokens (hex, 32 random bytes).
    csrf_secret: Mapped[str] = mapped_column(String(64))
    auth_method: Mapped[str] = mapped_column(String(20))  # link | password | email | passkey
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInToken(Base):
    """A one-time sign-in link: the owner link printed by `link-wallet serve` or an email
    magic link. Single use (`used_at` set by a conditional update), short-lived."""

    __tablename__ = "web_signin_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # owner_link | email
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Passkey(Base):
    """A WebAuthn credential the person enrolled (public key only)."""

    __tablename__ = "web_passkeys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # pk_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100), default="Passkey")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (endpoint + its ECDH key and auth secret)."""

    __tablename__ = "web_push_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # wps_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationChannel(Base):
    """An apprise URL the person added (ntfy, Slack, Discord, webhook…). The URL holds
    third-party secrets, so it is kept encrypted; `label` is the safe display form."""

    __tablename__ = "web_notification_channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # nch_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    url_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
