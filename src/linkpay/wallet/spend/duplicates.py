"""Duplicate protection: an agent that retries "create" (lost response, loop, restart)
must not pile up identical purchases for the person to approve. An identical request
(same material hash and context) still awaiting a decision, from the same agent (token
family), created within `DUPLICATE_WINDOW_SECONDS`, is answered with 429
`spend_request_rate_limited` carrying the existing request so the agent can resume it.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from linkpay.wallet.binding import material_hash
from linkpay.wallet.store.models import SpendRequest

DUPLICATE_WINDOW_SECONDS = 60


def find_duplicate(
    session: Session,
    *,
    user_id: str,
    token_family_id: str | None,
    material_hash_value: str,
    context: str,
    now: datetime,
) -> SpendRequest | None:
    since = now - timedelta(seconds=DUPLICATE_WINDOW_SECONDS)
    candidates = session.scalars(
        select(SpendRequest)
        .where(
            SpendRequest.user_id == user_id,
            SpendRequest.token_family_id == token_family_id,
            SpendRequest.status.in_(("created", "pending_approval")),
            SpendRequest.created_at > since,
            # Narrow in SQL so the cost stays flat however many requests the agent
            # makes; the material hash then decides among the (usually zero) rows left.
            SpendRequest.context == context,
        )
        .order_by(SpendRequest.created_at.desc())
    ).all()
    for row in candidates:
        if material_hash(row) == material_hash_value:
            return row
    return None


def lock_identical_creates(
    session: Session, token_family_id: str | None, material_hash_value: str, context: str
) -> None:
    """PostgreSQL: a transaction-scoped advisory lock on (agent, material hash,
    context), exactly what makes two requests duplicates, so two identical creates
    racing each other see one another's row, while different requests never wait (the
    same purchase asked for with another context is another request). SQLite's BEGIN
    IMMEDIATE already serializes every writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    identity = f"{token_family_id}:{material_hash_value}:{context}"
    key = int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def retry_after_seconds(existing: SpendRequest, now: datetime) -> int:
    remaining = (existing.created_at + timedelta(seconds=DUPLICATE_WINDOW_SECONDS)) - now
    return max(1, math.ceil(remaining.total_seconds()))
