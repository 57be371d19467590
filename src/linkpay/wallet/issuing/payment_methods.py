"""Saving a person's real card with the connected Stripe account, so shared payment
tokens can be issued against it.

The payment-methods page asks `start` for a SetupIntent, Stripe.js' Payment Element
collects the card in Stripe's own iframe (the number never reaches the wallet) and
confirms it, then the page calls `finish`, which reads the confirmed card from Stripe
and records it: a `payment_methods` row for display (brand, last4, expiry) and the
Stripe Customer / PaymentMethod ids behind it (`issuer_payment_methods`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.base import IssuerRejected
from linkpay.wallet.issuing.connections import active_connection, build_issuer
from linkpay.wallet.store.issuer_models import IssuerConnection, IssuerPaymentMethod
from linkpay.wallet.store.models import PaymentMethod, User

if TYPE_CHECKING:
    from linkpay.wallet.issuing.stripe import StripeIssuer


def _stripe(session: Session, settings: Any) -> tuple[IssuerConnection, StripeIssuer]:
    # Function-local: the stripe SDK is the optional `live` extra, and the web app
    # imports this module whether or not Stripe is connected (as connections.py does).
    from linkpay.wallet.issuing.stripe import StripeIssuer

    connection = active_connection(session)
    if connection is None or connection.provider != "stripe":
        raise IssuerRejected("connect Stripe first to save a card with it")
    issuer = build_issuer(settings, connection)
    assert isinstance(issuer, StripeIssuer)
    return connection, issuer


def start(session: Session, settings: Any, user_id: str) -> dict[str, str]:
    """A SetupIntent for the person (their Stripe Customer made once)."""
    connection, issuer = _stripe(session, settings)
    customer = session.scalar(
        select(IssuerPaymentMethod.customer_ref)
        .join(PaymentMethod, PaymentMethod.id == IssuerPaymentMethod.payment_method_id)
        .where(PaymentMethod.user_id == user_id, IssuerPaymentMethod.connection_id == connection.id)
    )
    if customer is None:
        user = session.get(User, user_id)
        customer = issuer.create_customer(
            email=user.email if user else None, name=user.name if user else None, user_id=user_id
        )
    intent_id, client_secret = issuer.create_setup_intent(customer, user_id)
    return {"setup_intent": intent_id, "client_secret": client_secret, "customer": customer}


def finish(session: Session, settings: Any, user_id: str, setup_intent_id: str) -> PaymentMethod:
    """Record the card a confirmed SetupIntent saved (idempotent per PaymentMethod)."""
    connection, issuer = _stripe(session, settings)
    card = issuer.saved_card(setup_intent_id)
    if card["user"] != user_id:  # a SetupIntent started for someone else
        raise IssuerRejected("this card was not saved from your account")
    known = session.scalars(
        select(IssuerPaymentMethod).where(
            IssuerPaymentMethod.payment_method_ref == card["payment_method"]
        )
    ).first()
    if known is not None:
        existing = session.get(PaymentMethod, known.payment_method_id)
        assert existing is not None
        if existing.user_id != user_id:
            raise IssuerRejected("this card belongs to someone else")
        return existing
    has_default = session.scalar(
        select(PaymentMethod.id).where(PaymentMethod.user_id == user_id, PaymentMethod.is_default)
    )
    row = PaymentMethod(
        id=new_id("csmrpd"),
        user_id=user_id,
        type="card",
        is_default=has_default is None,
        nickname="Saved with Stripe",
        brand=card["brand"],
        last4=card["last4"],
        exp_month=card["exp_month"],
        exp_year=card["exp_year"],
    )
    session.add(row)
    session.flush()
    session.add(
        IssuerPaymentMethod(
            payment_method_id=row.id,
            connection_id=connection.id,
            customer_ref=card["customer"],
            payment_method_ref=card["payment_method"],
        )
    )
    return row
