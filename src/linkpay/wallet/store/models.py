"""SQLAlchemy models for every table the wallet keeps.

Conventions: string primary keys with Stripe-like prefixes (`usr_`, `csmrpd_`, `lsrq_`,
…); timestamps are timezone-aware UTC (SQLite hands back naive datetimes, `UTCDateTime`
re-attaches UTC); money is integer minor units; secrets are stored only hashed (tokens,
codes, API keys) or encrypted (card number and CVC, see `wallet/crypto.py`).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns aware datetimes (SQLite drops the tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # usr_…
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2, web sign-in
    # The person's own per-request limit (cents); never above wire.MAX_AMOUNT.
    max_amount_per_request: Mapped[int] = mapped_column(Integer, default=50_000)
    # "Stop everything": while set, new spend requests are refused.
    spending_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # The person's billing address (wire.Address fields), printed on issued cards.
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentMethod(Base):
    """A funding source. Only display data is kept (brand, last4, expiry): the wallet
    never needs the person's real card number, it issues one-time virtual cards."""

    __tablename__ = "payment_methods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # csmrpd_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    type: Mapped[str] = mapped_column(String(20), default="card")  # card | bank_account
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    nickname: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    bank_name: Mapped[str | None] = mapped_column(String(100))
    # Removed by the person: kept (past purchases point at it) but never offered again.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShippingAddress(Base):
    __tablename__ = "shipping_addresses"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # shad_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    nickname: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[dict[str, Any]] = mapped_column(JSON)  # wire.Address fields
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeviceGrant(Base):
    """One RFC 8628 device authorization. status: pending → approved → consumed, or
    denied. Codes are stored hashed (device code: sha256; user phrase: HMAC with the
    server pepper, since phrases are low-entropy)."""

    __tablename__ = "device_grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # dgr_…
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(1000), default="")
    connection_label: Mapped[str | None] = mapped_column(String(300))
    client_hint: Mapped[str | None] = mapped_column(String(200))
    authorization_details: Mapped[list[Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    interval: Mapped[int] = mapped_column(Integer, default=5)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthToken(Base):
    """An access/refresh token pair. `family_id` groups the rotations of one login so
    that revoking (or detecting reuse of an old refresh token) ends them all."""

    __tablename__ = "oauth_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # tok_…
    family_id: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(200))
    connection_label: Mapped[str | None] = mapped_column(String(300))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(1000), default="")
    authorization_details: Mapped[list[Any] | None] = mapped_column(JSON)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # refresh used
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SpendRequest(Base):
    __tablename__ = "spend_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # lsrq_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_family_id: Mapped[str | None] = mapped_column(String(40), index=True)  # the agent
    status: Mapped[str] = mapped_column(String(30), index=True)
    credential_type: Mapped[str] = mapped_column(String(30))
    network_id: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    merchant_name: Mapped[str | None] = mapped_column(String(200))
    merchant_url: Mapped[str | None] = mapped_column(String(2048))
    context: Mapped[str] = mapped_column(Text)
    line_items: Mapped[list[Any]] = mapped_column(JSON, default=list)
    totals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    payment_method_id: Mapped[str | None] = mapped_column(ForeignKey("payment_methods.id"))
    request_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    test: Mapped[bool] = mapped_column(Boolean, default=True)
    # Which issuer backs the credential (test | stripe | lithic), chosen at creation:
    # `test` for `test: true` requests or when no live issuer is connected.
    issuer: Mapped[str | None] = mapped_column(String(20))
    # Agent-supplied deadline (unix seconds in the API).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person must decide before this; after it the request reads `expired`.
    approval_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the RFC 8785 canonical JSON of the material fields at approval time.
    approval_hash: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credential_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_status_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Bumped on every change; long-poll and optimistic updates compare it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_spend_requests_user_status", "user_id", "status"),
        # The history list and its pages, newest first (`ORDER BY created_at DESC, id
        # DESC`): both databases read this index backwards instead of sorting rows.
        Index("ix_spend_requests_user_created", "user_id", "created_at", "id"),
        # One agent's creates in a window (the policy's per-agent counts, duplicate
        # protection): counted from the index alone, whatever the person's other
        # agents or older history hold.
        Index("ix_spend_requests_user_family_created", "user_id", "token_family_id", "created_at"),
    )


class SpendRequestEvent(Base):
    """The status history (`include_history`) and the activity feed."""

    __tablename__ = "spend_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    spend_request_id: Mapped[str] = mapped_column(ForeignKey("spend_requests.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(20))  # agent | person | system | network
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Credential(Base):
    """A one-time credential issued for an approved spend request: a virtual card
    (`kind='card'`, id `ic_…`) or a shared payment token (`kind='shared_payment_token'`,
    id `spt_…`). status: active → used | voided | expired. The card number and CVC live
    only in `secret_ciphertext` (AES-GCM envelope); `number_fingerprint` is an HMAC of
    the number so the test network can find a card without decrypting every row."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    spend_request_id: Mapped[str] = mapped_column(ForeignKey("spend_requests.id"), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    issuer: Mapped[str] = mapped_column(String(30), default="test")
    issuer_ref: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    brand: Mapped[str | None] = mapped_column(String(20))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    number_fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    network_id: Mapped[str | None] = mapped_column(String(200))
    max_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    approval_hash: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Merchant(Base):
    """A merchant on the test network: authenticates with an API key (`sk_test_…`,
    stored hashed) and owns a network profile id (`profile_…`) for SPTs."""

    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # mer_…
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2048))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    network_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Charge(Base):
    """One attempt to use a credential on the test network: a card charge (`ch_…`) or
    an SPT payment intent (`pi_…`). Declines are recorded too."""

    __tablename__ = "charges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    credential_id: Mapped[str | None] = mapped_column(ForeignKey("credentials.id"), index=True)
    spend_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # card | shared_payment_token
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))  # succeeded | failed
    decline_code: Mapped[str | None] = mapped_column(String(60))
    charge_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Transaction(Base):
    __tablename__ = "transactions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # txn_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    source_id: Mapped[str | None] = mapped_column(String(40))  # the charge / payment intent
    spend_request_id: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(30), default="link")
    category: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotencyKey(Base):
    """`Idempotency-Key` records: state in_progress → completed with the stored
    response. Unique per principal (token family or merchant) and key."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="in_progress")
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("principal", "key"),)


class AgentObservation(Base):
    __tablename__ = "agent_observations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # obs_…
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
