"""The wallet's issuer connection: which live issuer (if any) backs non-test requests.

Connecting is the person's or operator's act (`link-wallet issuer connect …`, or the
settings page), never the agent's. At most one connection is active; its keys are
sealed with the card vault (AES-GCM, the card key and its rotation) and never printed
or logged — status shows only a hint like `sk_test_…4242`.

The mode follows the key: Stripe `sk_test_`/`rk_test_` keys and the Lithic `sandbox`
environment are test mode, anything else is live. Requests created with `test: true`
always get the built-in test issuer, whatever is connected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet.crypto import CardVault
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.base import Issuer, IssuerRejected
from linkpay.wallet.issuing.test_issuer import TestIssuer
from linkpay.wallet.store.issuer_models import (
    IssuerCardholder,
    IssuerConnection,
    IssuerPaymentMethod,
)
from linkpay.wallet.store.models import PaymentMethod

PROVIDERS = ("stripe", "lithic")
ENVIRONMENTS = ("sandbox", "production")


class IssuerConfigError(ValueError):
    """Bad connection input (unknown provider, malformed key); the message says which."""


@dataclass(frozen=True)
class ConnectionStatus:
    provider: str  # test | stripe | lithic
    livemode: bool
    environment: str | None
    key_hint: str | None
    webhook_secret_set: bool
    webhook_url: str | None
    connected_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "livemode": self.livemode,
            "environment": self.environment,
            "key_hint": self.key_hint,
            "webhook_secret_set": self.webhook_secret_set,
            "webhook_url": self.webhook_url,
            "connected_at": self.connected_at.isoformat() if self.connected_at else None,
        }


def key_hint(key: str) -> str:
    """`sk_test_…4242`: enough to tell keys apart, never enough to use one."""
    parts = key.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) > 2 else ""
    return f"{prefix}…{key[-4:]}" if len(key) > 12 else "…"


def _vault(settings: Any) -> CardVault:
    return settings.card_vault()


def active_connection(session: Session) -> IssuerConnection | None:
    return session.scalars(
        select(IssuerConnection).where(IssuerConnection.active.is_(True))
    ).first()


def connection_secrets(settings: Any, row: IssuerConnection) -> dict[str, str]:
    return {k: str(v) for k, v in _vault(settings).decrypt(row.id, row.secret_ciphertext).items()}


def validate(
    provider: str, api_key: str, environment: str | None, webhook_secret: str | None
) -> None:
    if provider not in PROVIDERS:
        raise IssuerConfigError(f"unknown issuer {provider!r}; choose stripe or lithic")
    if not api_key or any(ch.isspace() for ch in api_key):
        raise IssuerConfigError("the key is empty or has spaces")
    if provider == "stripe" and not api_key.startswith(("sk_", "rk_")):
        raise IssuerConfigError("a Stripe secret key starts with sk_ (or rk_ for a restricted key)")
    if provider == "lithic" and environment not in ENVIRONMENTS:
        raise IssuerConfigError("--environment must be sandbox or production")
    if webhook_secret is not None and not webhook_secret.startswith("whsec_"):
        raise IssuerConfigError("a webhook signing secret starts with whsec_")


def connect(
    session: Session,
    settings: Any,
    *,
    provider: str,
    api_key: str,
    webhook_secret: str | None = None,
    environment: str | None = None,
    publishable_key: str | None = None,
    check: bool = True,
) -> IssuerConnection:
    """Store (and by default check, with one read call) a new active connection; the
    previous one, if any, is disconnected."""
    validate(provider, api_key, environment, webhook_secret)
    if provider == "stripe":
        from linkpay.wallet.issuing.stripe import is_live_key

        livemode, environment = is_live_key(api_key), None
    else:
        livemode = environment == "production"
    row = IssuerConnection(id=new_id("iconn"), provider=provider, livemode=livemode)
    row.environment = environment
    row.key_hint = key_hint(api_key)
    if publishable_key is not None and not publishable_key.startswith("pk_"):
        raise IssuerConfigError("a Stripe publishable key starts with pk_")
    row.secret_ciphertext = _vault(settings).encrypt(
        row.id,
        {
            "api_key": api_key,
            "webhook_secret": webhook_secret or "",
            "publishable_key": publishable_key or "",
        },
    )
    if check:
        build_issuer(settings, row, {"api_key": api_key}).check()
    disconnect(session)
    session.add(row)
    session.flush()
    return row


def disconnect(session: Session) -> bool:
    done = session.execute(
        update(IssuerConnection)
        .where(IssuerConnection.active.is_(True))
        .values(active=False, disconnected_at=datetime.now(UTC))
        .returning(IssuerConnection.id)
        .execution_options(synchronize_session=False)
    ).all()
    return bool(done)


def status(session: Session, settings: Any) -> ConnectionStatus:
    row = active_connection(session)
    if row is None:
        return ConnectionStatus("test", False, None, None, False, None, None)
    secrets = connection_secrets(settings, row)
    return ConnectionStatus(
        provider=row.provider,
        livemode=row.livemode,
        environment=row.environment,
        key_hint=row.key_hint,
        webhook_secret_set=bool(secrets.get("webhook_secret")),
        webhook_url=f"{settings.public_url}/webhooks/{row.provider}",
        connected_at=row.created_at,
    )


def publishable_key(session: Session, settings: Any) -> str | None:
    """Stripe's publishable key (for Stripe.js on the payment-methods page), if given."""
    row = active_connection(session)
    if row is None or row.provider != "stripe":
        return None
    return connection_secrets(settings, row).get("publishable_key") or None


def build_issuer(
    settings: Any, row: IssuerConnection, secrets: dict[str, str] | None = None
) -> Issuer:
    secrets = secrets or connection_secrets(settings, row)
    if row.provider == "stripe":
        from linkpay.wallet.issuing.stripe import StripeIssuer

        return StripeIssuer(secrets["api_key"], api_base=settings.stripe_api_base or None)
    if row.provider == "lithic":
        from linkpay.wallet.issuing.lithic import LithicIssuer

        return LithicIssuer(
            secrets["api_key"],
            environment=row.environment or "sandbox",
            base_url=settings.lithic_base_url or None,
        )
    raise IssuerRejected(f"unknown issuer {row.provider!r}")


def choose_issuer(session: Session, *, test: bool | None) -> dict[str, Any]:
    """The spend request's `issuer` and `test` columns, fixed at creation: the test
    issuer for `test: true` or when nothing is connected, else the connected issuer;
    `test` is true unless the connected issuer is in live mode (so `livemode` on the
    wire is what the money is)."""
    row = None if test else active_connection(session)
    if row is None:
        return {"issuer": TestIssuer.name, "test": True}
    return {"issuer": row.provider, "test": not row.livemode}


def issuer_for(session: Session, settings: Any, name: str | None) -> Issuer:
    """The issuer called `name` (a spend request's or credential's `issuer`; None for
    rows older than live issuers, which are test ones). A live issuer must still be
    the connected one."""
    if name in (None, TestIssuer.name):
        return TestIssuer()
    row = active_connection(session)
    if row is None or row.provider != name:
        raise IssuerRejected(
            f"{name.capitalize()} is no longer connected; reconnect it "
            "(link-wallet issuer connect) to issue or manage its cards"
        )
    return build_issuer(settings, row)


def webhook_secret(session: Session, settings: Any, provider: str) -> str | None:
    row = active_connection(session)
    if row is None or row.provider != provider:
        return None
    return connection_secrets(settings, row).get("webhook_secret") or None


def stored_cardholder(session: Session, user_id: str) -> str | None:
    """The connected issuer's cardholder id for this person, if one was made."""
    row = active_connection(session)
    if row is None:
        return None
    return session.scalar(
        select(IssuerCardholder.cardholder_ref).where(
            IssuerCardholder.user_id == user_id, IssuerCardholder.connection_id == row.id
        )
    )


def remember_cardholder(session: Session, user_id: str, cardholder_ref: str) -> None:
    row = active_connection(session)
    if row is not None and stored_cardholder(session, user_id) is None:
        session.add(
            IssuerCardholder(user_id=user_id, connection_id=row.id, cardholder_ref=cardholder_ref)
        )


def payment_method_ref(session: Session, user_id: str, payment_method_id: str | None) -> str | None:
    """The Stripe PaymentMethod behind the request's payment method; when that one was
    not saved with Stripe (e.g. a test card), the person's default, else most recent,
    card saved with the connected Stripe account."""
    row = active_connection(session)
    if row is None:
        return None
    query = (
        select(IssuerPaymentMethod.payment_method_ref)
        .join(PaymentMethod, PaymentMethod.id == IssuerPaymentMethod.payment_method_id)
        .where(PaymentMethod.user_id == user_id, IssuerPaymentMethod.connection_id == row.id)
    )
    if payment_method_id:
        chosen = session.scalars(query.where(PaymentMethod.id == payment_method_id)).first()
        if chosen is not None:
            return chosen
    query = query.order_by(PaymentMethod.is_default.desc(), IssuerPaymentMethod.created_at.desc())
    return session.scalars(query).first()
