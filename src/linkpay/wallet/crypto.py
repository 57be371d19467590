"""Card secrets at rest: AES-GCM envelope encryption and number fingerprints.

Each credential gets its own random 256-bit data key (DEK). The secrets (card number,
CVC) are sealed with the DEK; the DEK is sealed ("wrapped") with the wallet's card key
(`Settings.card_key`). Both seals carry the credential id as associated data, so a
ciphertext copied onto another credential row does not decrypt, and the stored blob
names which card key wrapped it (`kid`), so the card key can be rotated by re-wrapping
DEKs (`CardVault.rewrap`) without touching the sealed secrets.

Stored blob: compact JSON `{"v":1,"kid":…,"n":…,"ct":…,"wn":…,"wdek":…}` (base64url
fields). It never contains the card number or CVC in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY_BYTES = 32
_NONCE_BYTES = 12
_BLOB_VERSION = 1


class VaultError(ValueError):
    """A blob could not be opened: wrong key, wrong credential id, tampered or malformed.
    The message never contains secret material."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: bytes) -> str:
    """A short public name for a card key (not secret: a hash prefix)."""
    return hashlib.sha256(b"linkpay-card-key-id:" + key).hexdigest()[:12]


def _aad(credential_id: str) -> bytes:
    return f"linkpay:credential:{credential_id}".encode()


class CardVault:
    """Seals and opens card secrets for one credential id at a time.

    `key` is the active card key (new blobs are wrapped with it); `previous_keys` are
    older keys still accepted for opening, so a rotation can be rolled out gradually.
    """

    def __init__(self, key: bytes, previous_keys: Iterable[bytes] = ()) -> None:
        keys = [key, *previous_keys]
        for candidate in keys:
            if not isinstance(candidate, bytes | bytearray) or len(candidate) != _KEY_BYTES:
                raise ValueError(f"card key must be {_KEY_BYTES} bytes")
        # cryptography is imported with the first vault, not with the settings (~25 ms
        # that a wallet's start and most admin commands never need).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._active_kid = key_id(bytes(key))
        self._keys: dict[str, AESGCM] = {key_id(bytes(k)): AESGCM(bytes(k)) for k in reversed(keys)}

    def __repr__(self) -> str:
        return f"CardVault(kid={self._active_kid!r})"

    def encrypt(self, credential_id: str, secrets: dict[str, Any]) -> str:
        """Seal `secrets` (a JSON-able dict) for `credential_id`; returns the blob text."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        aad = _aad(credential_id)
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_BYTES)
        plaintext = json.dumps(secrets, separators=(",", ":"), sort_keys=True).encode()
        ciphertext = AESGCM(dek).encrypt(nonce, plaintext, aad)
        wrap_nonce = os.urandom(_NONCE_BYTES)
        wrapped = self._keys[self._active_kid].encrypt(wrap_nonce, dek, aad + b"|dek")
        blob = {
            "v": _BLOB_VERSION,
            "kid": self._active_kid,
            "n": _b64e(nonce),
            "ct": _b64e(ciphertext),
            "wn": _b64e(wrap_nonce),
            "wdek": _b64e(wrapped),
        }
        return json.dumps(blob, separators=(",", ":"))

    def decrypt(self, credential_id: str, blob: str) -> dict[str, Any]:
        """Open a blob sealed for `credential_id`. Raises `VaultError` on any mismatch."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        aad = _aad(credential_id)
        parts = self._parse(blob)
        dek = self._unwrap(parts, aad)
        try:
            plaintext = AESGCM(dek).decrypt(parts["n"], parts["ct"], aad)
        except InvalidTag:
            raise VaultError("card secrets failed authentication") from None
        value = json.loads(plaintext)
        if not isinstance(value, dict):
            raise VaultError("card secrets are not an object")
        return value

    def rewrap(self, credential_id: str, blob: str) -> str:
        """Re-wrap the data key with the active card key (key rotation); the sealed
        secrets are left untouched."""
        aad = _aad(credential_id)
        parts = self._parse(blob)
        dek = self._unwrap(parts, aad)
        wrap_nonce = os.urandom(_NONCE_BYTES)
        wrapped = self._keys[self._active_kid].encrypt(wrap_nonce, dek, aad + b"|dek")
        return json.dumps(
            {
                "v": _BLOB_VERSION,
                "kid": self._active_kid,
                "n": _b64e(parts["n"]),
                "ct": _b64e(parts["ct"]),
                "wn": _b64e(wrap_nonce),
                "wdek": _b64e(wrapped),
            },
            separators=(",", ":"),
        )

    def open_with_any_key(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        """Open data sealed directly with a card key (no envelope, no key id): the format
        notification secrets had before they moved onto the vault. Tries every key."""
        from cryptography.exceptions import InvalidTag

        for cipher in self._keys.values():
            try:
                return bytes(cipher.decrypt(nonce, data, aad))
            except InvalidTag:
                continue
        raise VaultError("secret failed authentication with every card key")

    def _parse(self, blob: str) -> dict[str, Any]:
        try:
            raw = json.loads(blob)
            if raw.get("v") != _BLOB_VERSION:
                raise VaultError("unknown card secrets format version")
            return {
                "kid": str(raw["kid"]),
                "n": _b64d(raw["n"]),
                "ct": _b64d(raw["ct"]),
                "wn": _b64d(raw["wn"]),
                "wdek": _b64d(raw["wdek"]),
            }
        except VaultError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise VaultError("card secrets blob is malformed") from None

    def _unwrap(self, parts: dict[str, Any], aad: bytes) -> bytes:
        wrapper = self._keys.get(parts["kid"])
        if wrapper is None:
            raise VaultError("card secrets were sealed with an unknown card key")
        from cryptography.exceptions import InvalidTag

        try:
            return bytes(wrapper.decrypt(parts["wn"], parts["wdek"], aad + b"|dek"))
        except InvalidTag:
            raise VaultError("card data key failed authentication") from None


def normalize_card_number(number: str) -> str:
    """Digits only: people and merchants write numbers with spaces or dashes."""
    return "".join(ch for ch in number if ch.isdigit())


def fingerprint(pepper: bytes, number: str) -> str:
    """HMAC-SHA256 hex of the card number, keyed with the wallet's pepper: lets the test
    network find a card by number without decrypting rows, and a database dump alone
    cannot confirm a guessed number."""
    digits = normalize_card_number(number)
    return hmac.new(pepper, b"linkpay-card-number:" + digits.encode(), hashlib.sha256).hexdigest()
