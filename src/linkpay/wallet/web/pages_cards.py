"""`/payment-methods`: the person's funding sources: list, add a test card (the next
Stripe test card not in the wallet), make one the default, remove one. Duplicates and
removing a card a purchase still waits on are refused with the reason shown."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.wallet.accounts import TEST_CARDS
from linkpay.wallet.accounts import add_test_card as add_card
from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.errors import NotFound, WalletError
from linkpay.wallet.issuing.connections import publishable_key
from linkpay.wallet.payment_methods import active_methods, remove_method, set_default_method
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.sessions import Person

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "card": "Test card added.",
    "stripe_card": "Card saved with Stripe.",
    "default": "Default card changed: new purchases are charged to it.",
    "removed": "Card removed. Past purchases still show it.",
}


@router.get("/payment-methods")
def payment_methods(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    stripe_cards = publishable_key(db, settings) is not None
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
            "test_mode": bool(settings.test_mode),
            "next_test_card": next_test,
            "stripe_cards": stripe_cards,
        },
    )


def _change(db: Session, person: Person, action: str, method_id: str = "") -> Response:
    try:
        with db.begin_nested():
            if action == "card":
                add_card(db, user_id=person.user_id)
            elif action == "default":
                set_default_method(db, person.user_id, method_id[:60])
            else:
                remove_method(db, person.user_id, method_id[:60])
    except WalletError as exc:
        if isinstance(exc, NotFound):
            raise WebError(404, "Not found", "There is no such card in your wallet.") from None
        return redirect("/payment-methods?error=" + quote(exc.message))
    return redirect(f"/payment-methods?notice={action}")


async def _test_mode_only(settings: SettingsDep) -> None:
    """Checked before sign-in and CSRF, as before: test cards exist only in test mode."""
    if not settings.test_mode:
        raise WebError(400, "Test mode is off", "Test cards exist only in test mode.")


@router.post("/payment-methods/test-card", dependencies=[Depends(_test_mode_only)])
def add_test_card(person: PersonDep, db: DbDep) -> Response:
    return _change(db, person, "card")


@router.post("/payment-methods/{method_id}/default")
def make_default(method_id: str, person: PersonDep, db: DbDep) -> Response:
    return _change(db, person, "default", method_id)


@router.post("/payment-methods/{method_id}/remove")
def remove(method_id: str, person: PersonDep, db: DbDep) -> Response:
    return _change(db, person, "removed", method_id)
