"""Issuer pages: connect or disconnect the live card issuer (`/settings/issuer`, the
same actions as `link-wallet issuer …`), see the recent real-time decisions with their
reasons, and save a real card with Stripe (`/payment-methods/stripe`: a SetupIntent and
Stripe.js' Payment Element, the only page whose CSP admits Stripe's origins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.issuing import connections
from linkpay.wallet.issuing import payment_methods as stripe_cards
from linkpay.wallet.issuing.base import IssuingError
from linkpay.wallet.store.issuer_models import AuthorizationDecision
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "connected": "Issuer connected.",
    "disconnected": "Issuer disconnected: new purchases use the test issuer.",
}
# Stripe.js and the Payment Element (js.stripe.com scripts and frames, api.stripe.com
# calls), on the one page that embeds them.
STRIPE_CSP = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; "
    "img-src 'self' data: https://*.stripe.com; connect-src 'self' https://api.stripe.com; "
    "frame-src https://js.stripe.com https://hooks.stripe.com; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@router.get("/settings/issuer")
def issuer_page(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    notice: str | None = None,
) -> Response:
    decisions = list(
        db.scalars(
            select(AuthorizationDecision)
            .where(AuthorizationDecision.user_id == person.user_id)
            .order_by(AuthorizationDecision.created_at.desc())
            .limit(20)
        )
    )
    return render(
        request,
        "issuer.html",
        {
            "title": "Card issuer",
            "status": connections.status(db, settings),
            "decisions": decisions,
            "notice": NOTICES.get(notice or ""),
        },
    )


@router.post("/settings/issuer")
def connect_issuer(
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    provider: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
    webhook_secret: Annotated[str, Form()] = "",
    environment: Annotated[str, Form()] = "",
    publishable_key: Annotated[str, Form()] = "",
) -> Response:
    try:
        connections.connect(
            db,
            settings,
            provider=provider.strip(),
            api_key=api_key.strip(),
            webhook_secret=webhook_secret.strip() or None,
            environment=environment.strip() or None,
            publishable_key=publishable_key.strip() or None,
        )
    except connections.IssuerConfigError as error:
        raise WebError(400, "Not connected", str(error)) from None
    except IssuingError as error:
        raise WebError(400, "Not connected", f"The key was not accepted: {error}") from None
    return redirect("/settings/issuer?notice=connected")


@router.post("/settings/issuer/disconnect")
def disconnect_issuer(person: PersonDep, db: DbDep) -> Response:
    connections.disconnect(db)
    return redirect("/settings/issuer?notice=disconnected")


@router.get("/payment-methods/stripe")
def stripe_card_page(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep
) -> Response:
    key = connections.publishable_key(db, settings)
    if key is None:
        raise WebError(
            400,
            "Stripe is not set up for saving cards",
            "Connect Stripe with a publishable key (pk_…) on the card issuer page first.",
        )
    try:
        intent = stripe_cards.start(db, settings, person.user_id)
    except IssuingError as error:
        raise WebError(503, "Stripe is not answering", str(error)) from None
    response = render(
        request,
        "stripe_card.html",
        {
            "title": "Save a card with Stripe",
            "publishable_key": key,
            "client_secret": intent["client_secret"],
            "return_url": f"{settings.public_url}/payment-methods/stripe/return",
        },
    )
    response.headers["Content-Security-Policy"] = STRIPE_CSP
    return response


@router.get("/payment-methods/stripe/return")
def stripe_card_return(
    person: PersonDep, db: DbDep, settings: SettingsDep, setup_intent: str = ""
) -> Response:
    """Where Stripe.js sends the browser after confirming the SetupIntent."""
    try:
        stripe_cards.finish(db, settings, person.user_id, setup_intent[:80])
    except IssuingError as error:
        raise WebError(400, "The card was not saved", str(error)) from None
    return redirect("/payment-methods?notice=stripe_card")
