"""Notification secrets at rest (apprise URLs embed third-party tokens), sealed by the
same `CardVault` as card secrets: envelope encryption under the card key, with the key
id in the blob, so rotating the card key (new key active, old one kept as previous)
leaves every stored channel URL readable, and `CardVault.rewrap` moves it to the new
key. The channel id is bound in as associated data: a blob copied onto another row
does not open.

Rows written before this used a bare `v1:` format (AES-GCM directly under the card
key); `open_channel_url` still reads those with any of the vault's keys.
"""

from __future__ import annotations

import base64

from linkpay.wallet.crypto import CardVault, VaultError

_LEGACY_PREFIX = "v1:"


def _owner(channel_id: str) -> str:
    return f"notify:{channel_id}"


def seal_channel_url(vault: CardVault, channel_id: str, url: str) -> str:
    return vault.encrypt(_owner(channel_id), {"url": url})


def open_channel_url(vault: CardVault, channel_id: str, stored: str) -> str:
    """The URL sealed for `channel_id`. Raises `VaultError` on any mismatch."""
    if stored.startswith(_LEGACY_PREFIX):
        raw = base64.b64decode(stored[len(_LEGACY_PREFIX) :])
        aad = f"notify|{channel_id}".encode()
        return vault.open_with_any_key(raw[:12], raw[12:], aad).decode()
    url = vault.decrypt(_owner(channel_id), stored).get("url")
    if not isinstance(url, str):
        raise VaultError("notification secret is malformed")
    return url
