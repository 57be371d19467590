"""Is the person's confirmation fresh enough to loosen their policy? Fresh means a
sign-in in the last few minutes — with their passkey when one is enrolled — or, for
people without a passkey, their password typed again (`stepped_up_at`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkpay.wallet.store.web_models import Passkey, WebSession

FRESH_FOR = timedelta(minutes=5)


def has_passkey(session: Session, user_id: str) -> bool:
    return bool(session.scalar(select(func.count()).where(Passkey.user_id == user_id)))


def confirmation(session: Session, session_hash: str, now: datetime) -> str | None:
    """How this web session counts as freshly confirmed (passkey, password, link,
    email), or None when it doesn't."""
    row = session.get(WebSession, session_hash)
    if row is None:
        return None
    passkey = has_passkey(session, row.user_id)
    if now - row.created_at <= FRESH_FOR and (not passkey or row.auth_method == "passkey"):
        return row.auth_method
    stepped = (row.data or {}).get("stepped_up_at")
    if not passkey and stepped and now - datetime.fromisoformat(stepped) <= FRESH_FOR:
        return "password"
    return None
