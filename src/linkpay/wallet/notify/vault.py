"""Encryption for notification secrets at rest (apprise URLs embed third-party tokens).
AES-GCM with the wallet's card key; the channel id is the associated data, so a
ciphertext copied onto another row does not decrypt."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"


def encrypt_secret(key: bytes, owner_id: str, plaintext: str) -> str:
    nonce = os.urandom(12)
    blob = AESGCM(key).encrypt(nonce, plaintext.encode(), f"notify|{owner_id}".encode())
    return _PREFIX + base64.b64encode(nonce + blob).decode()


def decrypt_secret(key: bytes, owner_id: str, ciphertext: str) -> str:
    if not ciphertext.startswith(_PREFIX):
        raise ValueError("unknown secret format")
    raw = base64.b64decode(ciphertext[len(_PREFIX) :])
    plain = AESGCM(key).decrypt(raw[:12], raw[12:], f"notify|{owner_id}".encode())
    return plain.decode()
