"""Every use of pympp's private API, in one place (written against pympp 0.16.0).

pympp keeps two helpers we need in underscore modules: the request-body digest
(`_body_digest`) and the base64url JSON decoder its header parser uses (`_parsing`).
Using them keeps our bytes identical to pympp's and mppx's.
tests/mpp/test_pympp_private_api.py pins what we rely on, so an upgrade that moves or
changes them fails there, not somewhere downstream.
"""

from __future__ import annotations

from typing import Any

from mpp import _body_digest, _parsing

PYMPP_VERSION = "0.16.0"


def compute_body_digest(body: str | bytes | dict[str, Any]) -> str:
    """`sha-256=<base64 of SHA-256(body)>` (dicts serialized like JSON.stringify)."""
    return _body_digest.compute(body)


def verify_body_digest(digest: str, body: str | bytes | dict[str, Any]) -> bool:
    """Constant-time check of a digest a credential echoes against the body we got."""
    return _body_digest.verify(digest, body)


def b64url_json_object(encoded: str) -> dict[str, Any]:
    """Decode a base64url JSON object from a header (size-limited; `mpp.ParseError`)."""
    return _parsing._b64_decode(encoded)
