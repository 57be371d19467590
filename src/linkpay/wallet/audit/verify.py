"""Checking and exporting the chains.

`verify` walks the log in `seq` order, following each chain, and reports the first
entry that does not hold: a gap in its chain's `chain_seq` (an entry deleted), a
`prev_hash` that is not the previous entry's hash in that chain (entries deleted or
reordered), a `seq` that does not grow (reordered), or a stored hash that does not
match the entry's content (an entry altered). Each chain's head row must also name the
chain's last entry, so entries cut off the end are noticed too. `verify_entries` runs
the same check over exported JSONL, so a copy can be checked away from the wallet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.canonical import dumps as canonical_json
from linkpay.wallet.audit.chain import GENESIS, entry_hash, format_time, position
from linkpay.wallet.store.audit_models import AuditEntry, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int  # entries checked
    head_seq: int  # seq of the last good entry (0 if none)
    # The last good entry's hash while one chain holds entries; with several, the
    # SHA-256 of the canonical JSON `{"<chain>": [chain_seq, hash], …}` of every
    # chain's last good entry: one value that pins the whole log.
    head_hash: str
    broken_seq: int | None = None  # the first entry that fails
    reason: str | None = None
    chains: int = 1  # chains holding entries

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
        "chain": row.chain,
        "chain_seq": row.chain_seq,
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
    last: int | None = None
    while True:
        query = select(AuditEntry).order_by(AuditEntry.seq).limit(batch)
        if last is not None:
            query = query.where(AuditEntry.seq > last)
        rows = db.scalars(query).all()
        if not rows:
            return
        for row in rows:
            yield entry_of(row)
        last = rows[-1].seq


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class _Chain:
    """How far one chain has been followed."""

    chain_seq: int = 0
    hash: str = GENESIS
    seq: int = 0  # the global seq of its last entry


def _check(entry: dict[str, Any], state: _Chain, last_seq: int | None) -> tuple[Any, str] | None:
    """Why `entry` cannot follow `state` in its chain (and `last_seq` in the log), and
    the seq to name; None when it can."""
    seq: Any = entry.get("seq")
    chain, chain_seq = position(entry)
    if not (_is_int(seq) and _is_int(chain) and _is_int(chain_seq)):
        return seq, "entry is malformed"
    where = f" of chain {chain}" if chain != 1 else ""
    expected = state.chain_seq + 1
    if chain_seq != expected:
        if chain_seq > expected:
            # The missing entry's own seq is known only where seq and chain_seq agree.
            named = expected if seq == chain_seq else seq
            return named, f"entry {expected}{where} is missing or out of order (found {chain_seq})"
        return seq, f"entry out of order: expected {expected}{where}, found {chain_seq}"
    if last_seq is not None and seq <= last_seq:
        return seq, f"entry out of order: seq {seq} after {last_seq}"
    if entry.get("prev_hash") != state.hash:
        return seq, "prev_hash does not match the previous entry (deleted or reordered)"
    try:
        recomputed = entry_hash(entry)
    except (KeyError, TypeError, ValueError):
        return seq, "entry is malformed"
    if recomputed != entry.get("hash"):
        return seq, "hash does not match the entry's content (altered)"
    return None


def _result(chains: dict[int, _Chain], count: int, **broken: Any) -> VerifyResult:
    used = {chain: state for chain, state in chains.items() if state.chain_seq}
    head_seq = max((state.seq for state in used.values()), default=0)
    if len(used) <= 1:
        head_hash = next(iter(used.values())).hash if used else GENESIS
    else:
        heads: dict[str, Any] = {
            str(chain): [state.chain_seq, state.hash] for chain, state in used.items()
        }
        head_hash = hashlib.sha256(canonical_json(heads)).hexdigest()
    return VerifyResult(not broken, count, head_seq, head_hash, chains=max(1, len(used)), **broken)


def verify_entries(
    entries: Iterable[dict[str, Any]], *, heads: dict[int, tuple[int, str]] | None = None
) -> VerifyResult:
    """Check a sequence of entries (in the order given, which must be `seq` order).
    `heads` maps each chain to the (chain_seq, hash) the wallet records as its newest
    entry, when known: then an entry of any other chain is refused too."""
    chains: dict[int, _Chain] = {chain: _Chain() for chain in heads or {}}
    count, last_seq = 0, None
    for entry in entries:
        chain = position(entry)[0]
        if heads is not None and chain not in heads:
            return _result(
                chains, count, broken_seq=entry.get("seq"), reason=f"unknown chain {chain!r}"
            )
        state = chains.setdefault(chain, _Chain()) if _is_int(chain) else _Chain()
        problem = _check(entry, state, last_seq)
        if problem is not None:
            return _result(chains, count, broken_seq=problem[0], reason=problem[1])
        state.chain_seq, state.hash, state.seq = state.chain_seq + 1, entry["hash"], entry["seq"]
        count, last_seq = count + 1, entry["seq"]
    for chain, (head_chain_seq, head_hash) in sorted((heads or {}).items()):
        state = chains[chain]
        if (head_chain_seq, head_hash) == (state.chain_seq, state.hash):
            continue
        where = f" of chain {chain}" if chain != 1 else ""
        if head_chain_seq > state.chain_seq:
            reason = (
                f"entries {state.chain_seq + 1}..{head_chain_seq}{where} are missing "
                "(cut off the end)"
            )
        else:
            reason = f"the recorded head{where} does not match"
        # Name the entry after the chain's last good one (its seq is unknown: gone).
        return _result(chains, count, broken_seq=state.seq + 1, reason=reason)
    return _result(chains, count)


def read_heads(db: Session) -> dict[int, tuple[int, str]]:
    rows = db.execute(select(AuditHead.id, AuditHead.seq, AuditHead.hash)).all()
    return {row.id: (row.seq, row.hash) for row in rows}


def verify(db: Session) -> VerifyResult:
    """Verify every stored chain against its head row."""
    return verify_entries(iter_entries(db), heads=read_heads(db))


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
