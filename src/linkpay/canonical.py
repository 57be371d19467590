"""RFC 8785 (JCS) canonical JSON, fast for the values we hash.

The approval binding and the audit chain hash canonical JSON, and every revealed
credential needs both (a burst of long-poll answers thousands of times a second). The
`rfc8785` package serializes in pure Python, value by value; the standard library's C
encoder writes the very same bytes for the values those hashes hold: objects whose keys
are ASCII (UTF-16 and code point order agree), strings (JCS escapes exactly `"`, `\\`
and U+0000–U+001F, as `json` does with `ensure_ascii=False`, in lower-case hex), integers
within ±(2^53 − 1), booleans and null. Anything else (floats, larger integers, other
keys or types) goes to `rfc8785`, which formats or refuses it as the standard says.
`tests/test_canonical.py` compares the two on generated values.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_INT_LIMIT = 2**53 - 1
_MAX_DEPTH = 32
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _plain(value: Any, depth: int) -> bool:
    """Is `value` made only of what the C encoder writes exactly as JCS does? (Loops,
    not generators: this walk is most of the cost for small values.)"""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_INT_LIMIT <= value <= _INT_LIMIT
    if depth >= _MAX_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    return False


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of `value` (UTF-8), the same bytes as
    `rfc8785.dumps`, which also raises what that raises."""
    if _plain(value, 0):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 words the refusal
            pass
    return rfc8785.dumps(value)
