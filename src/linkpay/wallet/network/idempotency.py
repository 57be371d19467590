"""`Idempotency-Key` for merchants on the test network, Stripe's way.

Same key + same parameters → the stored response again (any status, declines
included), with `Idempotent-Replayed: true`; same key + other parameters → 400
`idempotency_error`. The key row is written in the same transaction as the charge it
guards, so a crash leaves neither, and a concurrent request with the same key waits on
the unique index (PostgreSQL) or the write lock (SQLite) and then replays.

The request fingerprint is an HMAC keyed with the wallet pepper: card charge bodies hold
a card number and CVC, and a plain hash of them could be brute-forced from a dump.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkpay.wallet.store.models import IdempotencyKey

MAX_KEY_LENGTH = 255


@dataclass
class Outcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def request_fingerprint(pepper: bytes, method: str, path: str, payload: bytes) -> str:
    message = method.encode() + b"\n" + path.encode() + b"\n" + payload
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def _idempotency_error(status_code: int, message: str) -> Outcome:
    return Outcome(
        status_code,
        {
            "error": {
                "type": "idempotency_error",
                "code": "idempotency_key_reused",
                "message": message,
            }
        },
    )


def _replay(row: IdempotencyKey, fingerprint: str, path: str) -> Outcome:
    if row.request_hash != fingerprint or row.path != path:
        return _idempotency_error(
            400,
            "Keys for idempotent requests can only be used with the same parameters "
            "they were first used with.",
        )
    if row.state != "completed" or row.status_code is None or row.response_body is None:
        return Outcome(
            409,
            {
                "error": {
                    "type": "idempotency_error",
                    "code": "idempotency_key_in_use",
                    "message": "A request with this Idempotency-Key is still being processed.",
                }
            },
        )
    return Outcome(row.status_code, json.loads(row.response_body), replayed=True)


def run_idempotent(
    session: Session,
    *,
    principal: str,
    key: str | None,
    method: str,
    path: str,
    fingerprint: str,
    handler: Callable[[Session], tuple[int, dict[str, Any]]],
) -> Outcome:
    """Run `handler` in the caller's transaction, at most once per (principal, key)."""
    if key is None:
        status_code, body = handler(session)
        return Outcome(status_code, body)
    if not key or len(key) > MAX_KEY_LENGTH:
        return _idempotency_error(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
    lookup = select(IdempotencyKey).where(
        IdempotencyKey.principal == principal, IdempotencyKey.key == key
    )
    existing = session.scalars(lookup).first()
    if existing is not None:
        return _replay(existing, fingerprint, path)
    row = IdempotencyKey(
        principal=principal,
        key=key,
        method=method,
        path=path,
        request_hash=fingerprint,
        state="in_progress",
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent request with this key committed first
        existing = session.scalars(lookup).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint, path)
    status_code, body = handler(session)
    row.state = "completed"
    row.status_code = status_code
    row.response_body = json.dumps(body, separators=(",", ":"))
    return Outcome(status_code, body)
