"""`/activity` (read from the tamper-evident audit log: who did what, when) and the
receipts: `/receipts/{id}` a printable page, `/receipts/{id}.json` the same data as a
download (see `wallet/receipts.py`)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.wallet.activity import activity_items
from linkpay.wallet.deps import DbDep
from linkpay.wallet.errors import NotFound, WalletError
from linkpay.wallet.receipts import build_receipt
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebError, WebRoute, render
from linkpay.wallet.web.present import clean_text

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 100


@router.get("/activity")
def activity(request: Request, person: PersonDep, db: DbDep, before: int | None = None) -> Response:
    items = activity_items(db, person.user_id, limit=PAGE + 1, before_seq=before)
    more = len(items) > PAGE
    items = items[:PAGE]
    return render(
        request,
        "activity.html",
        {
            "title": "Activity",
            "items": [
                {
                    "seq": i.seq,
                    "at": i.at,
                    "text": clean_text(i.text),
                    "who": clean_text(i.who),
                    "who_kind": i.who_kind,
                    "tone": i.tone,
                    "type": i.type,
                    "spend_request_id": i.spend_request_id,
                }
                for i in items
            ],
            "older": items[-1].seq if more and items else None,
        },
    )


def _receipt(db: Session, user_id: str, spend_request_id: str) -> dict[str, object]:
    try:
        return build_receipt(db, user_id, spend_request_id[:60])
    except WalletError as exc:
        if isinstance(exc, NotFound):
            raise WebError(404, "Not found", "There is no such purchase in your wallet.") from None
        raise


@router.get("/receipts/{spend_request_id}.json")
def receipt_json(spend_request_id: str, person: PersonDep, db: DbDep) -> Response:
    receipt = _receipt(db, person.user_id, spend_request_id)
    body = json.dumps(receipt, indent=2, ensure_ascii=False, default=str)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{receipt["receipt_for"]}.json"'
        },
    )


@router.get("/receipts/{spend_request_id}")
def receipt_page(request: Request, spend_request_id: str, person: PersonDep, db: DbDep) -> Response:
    receipt = _receipt(db, person.user_id, spend_request_id)
    return render(request, "receipt.html", {"title": "Receipt", "r": receipt})
