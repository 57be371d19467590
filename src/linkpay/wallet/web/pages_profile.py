"""`/profile` (name, phone, billing address for issued cards) and `/addresses` (the
shipping addresses agents are told to ship to: add, edit, remove, make default). The
rules live in `wallet/profile.py` and `wallet/addresses.py`; a refused form is shown
again with the reason and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from linkpay.wallet.addresses import (
    LABELS,
    get_address,
    list_addresses,
    one_line,
    remove_address,
    set_default_address,
    update_address,
)
from linkpay.wallet.addresses import (
    add_address as add_address_row,
)
from linkpay.wallet.deps import DbDep
from linkpay.wallet.errors import NotFound, WalletError
from linkpay.wallet.profile import get_user, update_profile
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, redirect, render
from linkpay.wallet.web.sessions import Person

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]

NOTICES = {
    "profile": "Profile saved.",
    "added": "Address added.",
    "saved": "Address saved.",
    "removed": "Address removed.",
    "default": "Default address changed: agents ship there from now on.",
}
FIELD_NAMES = ("name", "line_1", "line_2", "locality", "postal_code", "administrative_area")


def _rows(rows: Any) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "nickname": r.nickname, "line": one_line(r.address), "default": r.is_default}
        for r in rows
    ]


def _form_fields(form: Any, prefix: str = "") -> dict[str, str]:
    fields = {name: str(form.get(prefix + name) or "")[:300] for name in FIELD_NAMES}
    fields["country_code"] = str(form.get(prefix + "country_code") or "")[:10]
    return {key: value for key, value in fields.items() if value.strip()}


def _not_found() -> WebError:
    return WebError(404, "Not found", "There is no such address in your wallet.")


@router.get("/profile")
def profile_page(
    request: Request, person: PersonDep, db: DbDep, notice: str | None = None
) -> Response:
    user = get_user(db, person.user_id)
    values = {"name": user.name or "", "phone": user.phone or ""}
    billing = dict(user.billing_address or {})
    return _profile(request, values, billing, notice=NOTICES.get(notice or ""))


def _profile(
    request: Request,
    values: dict[str, str],
    billing: dict[str, Any],
    *,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "profile.html",
        {
            "title": "Profile",
            "values": values,
            "billing": billing,
            "labels": LABELS,
            "notice": notice,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post("/profile")
def save_profile(request: Request, person: PersonDep, db: DbDep, form: FormDep) -> Response:
    values = {"name": str(form.get("name") or "")[:300], "phone": str(form.get("phone") or "")[:60]}
    billing = _form_fields(form, "billing_")
    try:
        with db.begin_nested():
            update_profile(
                db,
                person.user_id,
                name=values["name"],
                phone=values["phone"],
                billing_address=billing or None,
                clear_billing_address=not billing,
            )
    except WalletError as exc:
        return _profile(request, values, billing, error=exc.message)
    return redirect("/profile?notice=profile")


@router.get("/addresses")
def addresses_page(
    request: Request, person: PersonDep, db: DbDep, notice: str | None = None
) -> Response:
    rows = _rows(list_addresses(db, person.user_id))
    return _addresses(request, rows, notice=NOTICES.get(notice or ""))


def _addresses(
    request: Request,
    rows: list[dict[str, Any]],
    *,
    notice: str | None = None,
    error: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "addresses.html",
        {
            "title": "Shipping addresses",
            "addresses": rows,
            "labels": LABELS,
            "values": values or {},
            "notice": notice,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post("/addresses")
def add_address(request: Request, person: PersonDep, db: DbDep, form: FormDep) -> Response:
    fields = _form_fields(form)
    nickname = str(form.get("nickname") or "")[:200]
    try:
        with db.begin_nested():
            add_address_row(
                db,
                person.user_id,
                fields,
                nickname=nickname,
                make_default=bool(form.get("make_default")),
            )
    except WalletError as exc:
        rows = _rows(list_addresses(db, person.user_id))
        values = {**fields, "nickname": nickname}
        return _addresses(request, rows, error=exc.message, values=values)
    return redirect("/addresses?notice=added")


@router.get("/addresses/{address_id}")
def edit_address_page(request: Request, address_id: str, person: PersonDep, db: DbDep) -> Response:
    try:
        row = get_address(db, person.user_id, address_id[:60])
    except WalletError:
        raise _not_found() from None
    values = {**(row.address or {}), "nickname": row.nickname or ""}
    return render(
        request,
        "address_edit.html",
        {"title": "Edit address", "id": row.id, "values": values, "labels": LABELS},
    )


@router.post("/addresses/{address_id}")
def save_address(
    request: Request, address_id: str, person: PersonDep, db: DbDep, form: FormDep
) -> Response:
    address_id = address_id[:60]
    fields = _form_fields(form)
    nickname = str(form.get("nickname") or "")[:200]
    try:
        with db.begin_nested():
            update_address(db, person.user_id, address_id, fields, nickname=nickname)
    except WalletError as exc:
        if isinstance(exc, NotFound):
            raise _not_found() from None
        return render(
            request,
            "address_edit.html",
            {
                "title": "Edit address",
                "id": address_id,
                "values": {**fields, "nickname": nickname},
                "labels": LABELS,
                "error": exc.message,
            },
            status_code=400,
        )
    return redirect("/addresses?notice=saved")


@router.post("/addresses/{address_id}/default")
def make_default(address_id: str, person: PersonDep, db: DbDep) -> Response:
    return _change(db, person, address_id, "default")


@router.post("/addresses/{address_id}/remove")
def remove(address_id: str, person: PersonDep, db: DbDep) -> Response:
    return _change(db, person, address_id, "removed")


def _change(db: Session, person: Person, address_id: str, action: str) -> Response:
    try:
        if action == "default":
            set_default_address(db, person.user_id, address_id[:60])
        else:
            remove_address(db, person.user_id, address_id[:60])
    except WalletError:
        raise _not_found() from None
    return redirect(f"/addresses?notice={action}")
