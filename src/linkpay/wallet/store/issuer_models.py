"""Tables of the live issuers: the connection, cardholders, authorization decisions.

- `issuer_connections`: at most one row per wallet with `active = true`. The provider's
  keys (API key, webhook secret) live only in `secret_ciphertext`, sealed with the card
  vault (`wallet/crypto.py`, same key and rotation as card secrets).
- `issuer_cardholders`: the issuer's cardholder for each person (Stripe creates one per
  person; stored so the 24-hour Stripe idempotency window never makes a second one).
- `authorization_decisions`: every real-time answer the wallet gave a card network
  (Stripe, Lithic or the test network), with its human-readable reason. Incremental
  authorizations are summed from the approved rows of the same credential.
- `issuer_transactions`: captures and refunds the issuer reported, once each.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base, UTCDateTime, utcnow


class IssuerConnection(Base):
    __tablename__ = "issuer_connections"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # iconn_…
    provider: Mapped[str] = mapped_column(String(20))  # stripe | lithic
    livemode: Mapped[bool] = mapped_column(Boolean, default=False)
    environment: Mapped[str | None] = mapped_column(String(20))  # lithic: sandbox | production
    # Sealed JSON: {"api_key": …, "webhook_secret": …}. Never logged, never printed.
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(20))  # e.g. "sk_test_…4242"
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IssuerCardholder(Base):
    __tablename__ = "issuer_cardholders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("issuer_connections.id"))
    cardholder_ref: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "connection_id"),)


class AuthorizationDecision(Base):
    __tablename__ = "authorization_decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # adec_…
    issuer: Mapped[str] = mapped_column(String(20))  # stripe | lithic | test
    authorization_ref: Mapped[str | None] = mapped_column(String(200))
    card_ref: Mapped[str | None] = mapped_column(String(200))
    credential_id: Mapped[str | None] = mapped_column(String(40), index=True)
    spend_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    user_id: Mapped[str | None] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    merchant_name: Mapped[str | None] = mapped_column(String(200))
    merchant_url: Mapped[str | None] = mapped_column(String(2048))
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_authorization_decisions_credential_ok", "credential_id", "approved"),
    )


class IssuerTransaction(Base):
    __tablename__ = "issuer_transactions"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the issuer's id
    issuer: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # capture | refund
    credential_id: Mapped[str | None] = mapped_column(String(40), index=True)
    spend_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssuerPaymentMethod(Base):
    """A person's card saved at Stripe (SetupIntent + Payment Element): the Stripe
    Customer and PaymentMethod ids behind one of our `payment_methods` rows, which
    shared payment tokens are issued against."""

    __tablename__ = "issuer_payment_methods"

    payment_method_id: Mapped[str] = mapped_column(
        ForeignKey("payment_methods.id"), primary_key=True
    )
    connection_id: Mapped[str] = mapped_column(ForeignKey("issuer_connections.id"))
    customer_ref: Mapped[str] = mapped_column(String(200))
    payment_method_ref: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
