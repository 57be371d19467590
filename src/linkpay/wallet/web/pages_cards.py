"""`/payment-methods`: the person's funding sources: list, add a test card (the next
Stripe test card not in the wallet), make one the default, remove one. Duplicates and
removing a card a purchase still waits on are refused with the reason shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from linkpay.wallet.errors import NotFound, WalletError
from linkpay.wallet.store.db import transaction
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.sessions import check_csrf, require_person

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "card": "Test card added.",
    "stripe_card": "Card saved with Stripe.",
    "default": "Default card changed: new purchases are charged to it.",
    "removed": "Card removed. Past purchases still show it.",
}


@router.get("/payment-methods")
def payment_methods(
    request: Request, notice: str | None = None, error: str | None = None
) -> Response:
    from linkpay.wallet.accounts import TEST_CARDS
    from linkpay.wallet.issuing.connections import publishable_key
    from linkpay.wallet.payment_methods import active_methods

    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        stripe_cards = publishable_key(db, request.app.state.settings) is not None
        methods = active_methods(db, person.user_id)
    present = {(m.brand, m.last4) for m in methods}
    next_test = next((c for c in TEST_CARDS if c[:2] not in present), None)
    return render(
        request,
        "payment_methods.html",
        {
            "title": "Payment methods",
            "methods": methods,
            "notice": NOTICES.get(notice or ""),
            "error": (error or "")[:300] or None,
            "test_mode": bool(request.app.state.settings.test_mode),
            "next_test_card": next_test,
            "stripe_cards": stripe_cards,
        },
    )


def _change(request: Request, csrf_token: str, action: str, method_id: str = "") -> Response:
    from linkpay.wallet import accounts, payment_methods

    with transaction(request.app.state.sessionmaker) as db:
        person = require_person(db, request)
        check_csrf(request, person, csrf_token)
        try:
            with db.begin_nested():
                if action == "card":
                    accounts.add_test_card(db, user_id=person.user_id)
                elif action == "default":
                    payment_methods.set_default_method(db, person.user_id, method_id[:60])
                else:
                    payment_methods.remove_method(db, person.user_id, method_id[:60])
        except WalletError as exc:
            if isinstance(exc, NotFound):
                raise WebError(404, "Not found", "There is no such card in your wallet.") from None
            from urllib.parse import quote

            return redirect("/payment-methods?error=" + quote(exc.message))
    return redirect(f"/payment-methods?notice={action}")


@router.post("/payment-methods/test-card")
def add_test_card(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    if not request.app.state.settings.test_mode:
        raise WebError(400, "Test mode is off", "Test cards exist only in test mode.")
    return _change(request, csrf_token, "card")


@router.post("/payment-methods/{method_id}/default")
def make_default(
    request: Request, method_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    return _change(request, csrf_token, "default", method_id)


@router.post("/payment-methods/{method_id}/remove")
def remove(request: Request, method_id: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    return _change(request, csrf_token, "removed", method_id)
