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
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from linkpay.wallet.binding import MATERIAL_COLUMNS, material_hash
from linkpay.wallet.store.models import SpendRequest

DUPLICATE_WINDOW_SECONDS = 60


def _candidates(family_matches: Any) -> Select[Any]:
    """Requests that could be a duplicate, narrowed in SQL so the cost stays flat however
    many requests the agent makes; the material hash then decides among the (usually
    zero) rows left. Only the columns that hash reads: the row itself is loaded only for
    a match. Built once (runs on every create; SQLAlchemy keeps a built statement's
    cache key)."""
    return (
        select(SpendRequest.id, *(getattr(SpendRequest, name) for name in MATERIAL_COLUMNS))
        .where(
            SpendRequest.user_id == bindparam("user_id"),
            family_matches,
            SpendRequest.status.in_(("created", "pending_approval")),
            SpendRequest.created_at > bindparam("since"),
            SpendRequest.context == bindparam("context"),
        )
        .order_by(SpendRequest.created_at.desc())
    )


_OF_AGENT = _candidates(SpendRequest.token_family_id == bindparam("family"))
_OF_NO_AGENT = _candidates(SpendRequest.token_family_id.is_(None))


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
    params = {"user_id": user_id, "since": since, "context": context}
    if token_family_id is None:
        query = _OF_NO_AGENT
    else:
        query, params["family"] = _OF_AGENT, token_family_id
    session.flush()  # what an ORM query would do first: this transaction's rows count
    for row in session.connection().execute(query, params):
        if material_hash(row) == material_hash_value:
            return session.get(SpendRequest, row.id)
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
    # Driver SQL: no statement to build or compile on every create.
    session.connection().exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


def retry_after_seconds(existing: SpendRequest, now: datetime) -> int:
    remaining = (existing.created_at + timedelta(seconds=DUPLICATE_WINDOW_SECONDS)) - now
    return max(1, math.ceil(remaining.total_seconds()))
