"""What we rely on from pympp's private helpers (reached only via linkpay.mpp._pympp).

A pympp upgrade that renames, moves or changes them fails here first."""

from __future__ import annotations

import base64
import hashlib
import json
from importlib.metadata import version

import pytest

import mpp
from linkpay.mpp import _pympp


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def test_written_against_the_pinned_pympp() -> None:
    assert version("pympp") == _pympp.PYMPP_VERSION


def test_body_digest_is_sha256_of_the_bytes_in_base64() -> None:
    body = b'{"q":"fortune"}'
    expected = "sha-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert _pympp.compute_body_digest(body) == expected
    assert _pympp.compute_body_digest(body.decode()) == expected


def test_dict_bodies_are_digested_like_json_stringify() -> None:
    body = {"b": 1, "10": "x", "a": [1, 2], "2": None}
    compact = json.dumps({"2": None, "10": "x", "b": 1, "a": [1, 2]}, separators=(",", ":"))
    assert _pympp.compute_body_digest(body) == _pympp.compute_body_digest(compact.encode())


def test_verify_accepts_the_matching_body_only() -> None:
    digest = _pympp.compute_body_digest(b"paid body")
    assert _pympp.verify_body_digest(digest, b"paid body") is True
    assert _pympp.verify_body_digest(digest, b"other body") is False
    assert _pympp.verify_body_digest("sha-256=ü", b"paid body") is False  # never raises


def test_b64url_json_object_decodes_unpadded_base64url() -> None:
    payload = {"amount": "100", "currency": "usd", "note": "ü?>"}
    encoded = _b64url(json.dumps(payload).encode())
    assert "=" not in encoded
    assert _pympp.b64url_json_object(encoded) == payload


@pytest.mark.parametrize(
    "encoded",
    [_b64url(b"[1, 2]"), _b64url(b"not json"), "%%%", "A" * 20_000],
)
def test_b64url_json_object_refuses_anything_but_a_small_json_object(encoded: str) -> None:
    with pytest.raises(mpp.ParseError):
        _pympp.b64url_json_object(encoded)


def test_the_public_canonical_encoding_is_jcs_base64url() -> None:
    assert mpp.canonical_b64url({"b": 1, "a": "x"}) == _b64url(b'{"a":"x","b":1}')
