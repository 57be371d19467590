"""The hash chain itself, independent of any database: the canonical form of an entry
and its SHA-256.

An entry's hash is SHA-256 over the RFC 8785 canonical JSON of every field it stores
except the hash: `seq`, `at`, `type`, `actor`, `subject`, `user_id`, `data` and
`prev_hash`. The first entry's `prev_hash` is `GENESIS` (64 zeros). Anyone holding an
export can recompute the chain with nothing but this module.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import rfc8785

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "type", "actor", "subject", "user_id", "data", "prev_hash")


def format_time(at: datetime) -> str:
    """One text form for the hash: UTC, microseconds, `Z` (both databases keep µs)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_data(data: Any) -> str:
    """Event data as canonical JSON text. Values JSON cannot hold (datetimes, ids
    objects) become their text first, so recording never fails on a stray type."""
    plain = json.loads(json.dumps(data if data is not None else {}, default=str))
    return rfc8785.dumps(plain).decode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the hashed fields of `entry`, where
    `entry["data"]` is the parsed data object and `entry["at"]` the formatted time."""
    body = {name: entry[name] for name in HASHED_FIELDS}
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()
