"""`Idempotency-Key` for the agent API's POSTs (the rules Stripe's API uses).

Per principal (the agent's token family) and key:
- first use: the key is *claimed* (an `in_progress` row, committed on its own so a
  concurrent retry can see it), the operation runs, and its response is stored as
  `completed` in the same transaction as the operation's side effects;
- same key, same request (method, path and the semantic JSON body) → the stored
  response again, with `Idempotent-Replayed: true`;
- same key, different request → 422 `idempotency_key_reused`;
- same key while the first request still runs → 409 `idempotency_key_in_use`.
If the operation fails (any 4xx, or a crash before commit) the claim is released:
nothing happened, so a retry with the same key is safe. A claim abandoned by a dead
process stops blocking after `STALE_CLAIM_SECONDS`; keys are kept `KEY_TTL_SECONDS`.

Claims are fenced: a claim's `created_at` is its generation, changed by every
takeover (compare-and-set). `complete` and `release` only act on the generation they
were given, so a request slow enough to have its claim taken over can neither store
its response nor delete the new owner's claim: its transaction rolls back with a 409,
and the operation commits once, under the new owner.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from linkpay.canonical import dumps as canonical_json
from linkpay.wallet.errors import Conflict, InvalidRequest, Unprocessable
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.models import IdempotencyKey, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
STALE_CLAIM_SECONDS = 60
KEY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Claim:
    id: int
    # The claim's generation (its `created_at`): the fencing token of this owner.
    claimed_at: datetime


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


# RFC 8785 canonical JSON holds only what an IEEE double holds exactly.
_MAX_SAFE_INTEGER = 2**53 - 1


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 over method, path and the RFC 8785 canonical JSON of the body, so key
    order and whitespace do not make two equal requests differ. A value RFC 8785 can't
    encode (an integer beyond ±(2^53-1), NaN, infinity) is the client's error: 400
    naming the field."""
    _check_canonicalizable(body, "")
    canonical = canonical_json({"method": method.upper(), "path": path, "body": body})
    return hashlib.sha256(canonical).hexdigest()


def _check_canonicalizable(value: Any, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise _unencodable(where, f"integers must be within ±{_MAX_SAFE_INTEGER}")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _unencodable(where, "must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_canonicalizable(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_canonicalizable(item, f"{where}[{index}]")


def _unencodable(where: str, rule: str) -> InvalidRequest:
    param = where or "body"
    return InvalidRequest(f"{param}: {rule}", param=param)


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"{HEADER}: must be 1 to {MAX_KEY_LENGTH} printable characters", param=HEADER
        )
    return key


def claim(
    factory: sessionmaker[Session],
    *,
    principal: str,
    key: str,
    method: str,
    path: str,
    request_hash: str,
) -> Claim | Replay:
    """Claim `key` for this request, or say how to answer instead (raises 409/422).

    A key whose holder released it between our insert and our read is claimed again,
    after the reading transaction has ended: a retry inside it would wait on SQLite's
    write lock that this very transaction holds (a 10 s stall, then 503)."""
    check_key(key)
    for _attempt in range(_CLAIM_ATTEMPTS):
        now = utcnow()
        inserted = _insert(factory, principal, key, method, path, request_hash, now)
        if inserted is not None:
            return inserted
        with transaction(factory) as session:
            existing = session.scalars(
                select(IdempotencyKey).where(
                    IdempotencyKey.principal == principal, IdempotencyKey.key == key
                )
            ).first()
            if existing is None:  # released between our insert and this read: again
                continue
            return _decide(session, existing, method, path, request_hash, now)
    raise _in_use()


# Insert, find it gone, insert again…: only a key claimed and released over and over by
# other requests in the meantime gets this far; it is reported as in use.
_CLAIM_ATTEMPTS = 3


def _insert(
    factory: sessionmaker[Session],
    principal: str,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    now: datetime,
) -> Claim | None:
    """Our claim, or None when the key exists already."""
    try:
        with transaction(factory) as session:
            row = IdempotencyKey(
                principal=principal,
                key=key,
                method=method.upper(),
                path=path,
                request_hash=request_hash,
                state="in_progress",
                created_at=now,
            )
            session.add(row)
            session.flush()
            return Claim(row.id, now)
    except IntegrityError:
        return None


def _decide(
    session: Session,
    existing: IdempotencyKey,
    method: str,
    path: str,
    request_hash: str,
    now: datetime,
) -> Claim | Replay:
    """An existing key: take it over when abandoned, else replay or refuse."""
    age = now - existing.created_at
    stale = (existing.state == "in_progress" and age > timedelta(seconds=STALE_CLAIM_SECONDS)) or (
        age > timedelta(seconds=KEY_TTL_SECONDS)
    )
    if stale and _reclaim(session, existing, method, path, request_hash, now):
        return Claim(existing.id, now)
    if existing.request_hash != request_hash:
        raise Unprocessable(
            f"This {HEADER} was already used for a different request; use a new key",
            code="idempotency_key_reused",
        )
    if existing.state != "completed":
        raise _in_use()
    return Replay(existing.status_code or 200, json.loads(existing.response_body or "null"))


def _in_use() -> Conflict:
    return Conflict(
        f"A request with this {HEADER} is still being processed; retry shortly",
        code="idempotency_key_in_use",
        retry_after=1,
    )


def _reclaim(
    session: Session,
    existing: IdempotencyKey,
    method: str,
    path: str,
    request_hash: str,
    now: datetime,
) -> bool:
    """Take over an abandoned claim or an expired key (compare-and-set on its state
    and timestamp, so two retries cannot both take it)."""
    taken = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == existing.id,
            IdempotencyKey.state == existing.state,
            IdempotencyKey.created_at == existing.created_at,
        )
        .values(
            state="in_progress",
            method=method.upper(),
            path=path,
            request_hash=request_hash,
            status_code=None,
            response_body=None,
            created_at=now,
        )
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    ).first()
    return taken is not None


def _owned(claimed: Claim) -> Any:
    return (
        IdempotencyKey.id == claimed.id,
        IdempotencyKey.state == "in_progress",
        IdempotencyKey.created_at == claimed.claimed_at,
    )


def complete(session: Session, claimed: Claim, status_code: int, body: Any) -> None:
    """Store the response, in the transaction that holds the operation's effects.
    Raises 409 (rolling that transaction back) when the claim is no longer ours."""
    stored = session.execute(
        update(IdempotencyKey)
        .where(*_owned(claimed))
        .values(state="completed", status_code=status_code, response_body=json.dumps(body))
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    ).first()
    if stored is None:
        raise Conflict(
            f"This request took so long that a retry with the same {HEADER} took it "
            "over; this attempt changed nothing. Retry to get the outcome",
            code="idempotency_key_in_use",
            retry_after=1,
        )


def release(factory: sessionmaker[Session], claimed: Claim) -> None:
    """The operation failed and changed nothing: forget the claim (if still ours)."""
    with transaction(factory) as session:
        session.execute(
            delete(IdempotencyKey)
            .where(*_owned(claimed))
            .execution_options(synchronize_session=False)
        )
