"""Checking and exporting the chain.

`verify` walks the log in `seq` order and reports the first entry that does not hold:
a gap in `seq` (an entry deleted), a `prev_hash` that is not the previous entry's hash
(entries deleted or reordered), or a stored hash that does not match the entry's
content (an entry altered). The head row must also name the last entry, so entries
cut off the end are noticed too. `verify_entries` runs the same check over exported
JSONL, so a copy can be checked away from the wallet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.audit.chain import GENESIS, entry_hash, format_time
from linkpay.wallet.audit.record import HEAD_ID
from linkpay.wallet.store.audit_models import AuditEntry, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int  # entries checked
    head_seq: int  # last good entry's seq (0 if none)
    head_hash: str
    broken_seq: int | None = None  # the first entry that fails
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def entry_of(row: AuditEntry) -> dict[str, Any]:
    """A stored row as the dict that is hashed and exported (`data` parsed). Data that
    is not JSON any more (tampered with) is kept as text so the hash check fails."""
    try:
        data: Any = json.loads(row.data)
    except ValueError:
        data = row.data
    return {
        "seq": row.seq,
        "at": format_time(row.at),
        "type": row.type,
        "actor": row.actor,
        "subject": row.subject,
        "user_id": row.user_id,
        "data": data,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def iter_entries(db: Session, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every entry in `seq` order, read in batches (the log can be long)."""
    last = 0
    while True:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield entry_of(row)
        last = rows[-1].seq


def _check(entry: dict[str, Any], expected_seq: int, prev_hash: str) -> tuple[Any, str] | None:
    """Why `entry` cannot sit at position `expected_seq` after `prev_hash`, and the seq
    to name; None when it can."""
    seq = entry.get("seq")
    if seq != expected_seq:
        if isinstance(seq, int) and seq > expected_seq:
            return expected_seq, f"entry {expected_seq} is missing or out of order (found {seq})"
        return seq, f"entry out of order: expected seq {expected_seq}, found {seq}"
    if entry.get("prev_hash") != prev_hash:
        return seq, "prev_hash does not match the previous entry (deleted or reordered)"
    try:
        recomputed = entry_hash(entry)
    except (KeyError, TypeError, ValueError):
        return seq, "entry is malformed"
    if recomputed != entry.get("hash"):
        return seq, "hash does not match the entry's content (altered)"
    return None


def verify_entries(
    entries: Iterable[dict[str, Any]], *, head: tuple[int, str] | None = None
) -> VerifyResult:
    """Check a sequence of entries (in the order given). `head` is the (seq, hash) the
    wallet records as the newest entry, when known."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for entry in entries:
        problem = _check(entry, expected_seq, prev_hash)
        if problem is not None:
            return VerifyResult(False, count, expected_seq - 1, prev_hash, *problem)
        prev_hash, expected_seq, count = entry["hash"], expected_seq + 1, count + 1
    last = expected_seq - 1
    if head is not None and head != (last, prev_hash):
        if head[0] > last:
            reason = f"entries {expected_seq}..{head[0]} are missing (cut off the end)"
            return VerifyResult(False, count, last, prev_hash, expected_seq, reason)
        return VerifyResult(
            False, count, last, prev_hash, head[0], "the recorded head does not match"
        )
    return VerifyResult(True, count, last, prev_hash)


def read_head(db: Session) -> tuple[int, str]:
    row = db.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one()
    return row.seq, row.hash


def verify(db: Session) -> VerifyResult:
    """Verify the whole stored chain against its head row."""
    return verify_entries(iter_entries(db), head=read_head(db))


def export_jsonl(db: Session, out: TextIO) -> int:
    """Write every entry as one JSON object per line (the hashed fields plus `hash`);
    returns how many were written."""
    count = 0
    for entry in iter_entries(db):
        out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise ValueError(f"line {number} is not JSON") from exc
