"""Is the person's confirmation fresh enough to loosen their policy? Fresh means a
sign-in in the last few minutes — with their passkey when one is enrolled — or a
step-up inside the current web session (`stepped_up_at`, `stepped_up_with`): the
passkey again when one is enrolled, else the password typed again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkpay.wallet.store.web_models import Passkey, WebSession

FRESH_FOR = timedelta(minutes=5)


def has_passkey(session: Session, user_id: str) -> bool:
    return bool(session.scalar(select(func.count()).where(Passkey.user_id == user_id)))


def confirmation(session: Session, session_hash: str, now: datetime) -> str | None:
    """How this web session counts as freshly confirmed (passkey, password, link,
    email), or None when it doesn't. With a passkey enrolled only the passkey counts."""
    row = session.get(WebSession, session_hash)
    if row is None:
        return None
    passkey = has_passkey(session, row.user_id)
    if now - row.created_at <= FRESH_FOR and (not passkey or row.auth_method == "passkey"):
        return row.auth_method
    data = row.data or {}
    stepped = data.get("stepped_up_at")
    method = data.get("stepped_up_with") or "password"
    if not stepped or now - datetime.fromisoformat(stepped) > FRESH_FOR:
        return None
    if passkey and method != "passkey":
        return None
    return str(method)


def stepped_up(data: dict[str, Any], method: str, now: datetime) -> dict[str, Any]:
    """The web session's data after a step-up by `method` (password or passkey)."""
    return {**data, "stepped_up_at": now.isoformat(), "stepped_up_with": method}
