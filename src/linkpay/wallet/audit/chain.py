"""The hash chains themselves, independent of any database: the canonical form of an
entry and its SHA-256.

An entry's hash is SHA-256 over the RFC 8785 canonical JSON of every field it stores
except the hash: `seq`, `chain`, `chain_seq`, `at`, `type`, `actor`, `subject`,
`user_id`, `data` and `prev_hash`. An entry of chain 1 whose `chain_seq` equals its
`seq` (every entry written before the log had several chains, and every SQLite entry)
leaves `chain` and `chain_seq` out, so its hash is what it always was; both values
are implied by the fields that are hashed. The first entry of each chain has
`prev_hash` `GENESIS` (64 zeros). Anyone holding an export can recompute the chains
with nothing but this module.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from linkpay.canonical import dumps as canonical_json

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "type", "actor", "subject", "user_id", "data", "prev_hash")
CHAIN_FIELDS = ("chain", "chain_seq")


def format_time(at: datetime) -> str:
    """One text form for the hash: UTC, microseconds, `Z` (both databases keep µs)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_data(data: Any) -> str:
    """Event data as canonical JSON text. Values JSON cannot hold (datetimes, ids
    objects) become their text first, so recording never fails on a stray type."""
    plain = json.loads(json.dumps(data if data is not None else {}, default=str))
    return canonical_json(plain).decode("utf-8")


def position(entry: dict[str, Any]) -> tuple[Any, Any]:
    """(chain, chain_seq) of an entry; an export made before chains existed has
    neither: chain 1, at its `seq`."""
    return entry.get("chain", 1), entry.get("chain_seq", entry.get("seq"))


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the hashed fields of `entry`, where
    `entry["data"]` is the parsed data object and `entry["at"]` the formatted time."""
    body = {name: entry[name] for name in HASHED_FIELDS}
    chain, chain_seq = position(entry)
    if (chain, chain_seq) != (1, entry["seq"]):
        body["chain"], body["chain_seq"] = chain, chain_seq
    return hashlib.sha256(canonical_json(body)).hexdigest()
