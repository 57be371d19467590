"""Web Push (RFC 8030/8291/8292) with pywebpush. The wallet generates its VAPID key pair
once and keeps it in `data_dir/vapid_private.pem` (mode 0600); browsers subscribe with
the public key (`applicationServerKey`)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkpay.files import create_private_file

VAPID_FILE = "vapid_private.pem"
PUSH_TTL_SECONDS = 600  # the approval window; a later push is useless


class SubscriptionGone(Exception):
    """The push service says the subscription no longer exists (404/410)."""


def _vapid_path(settings: Any) -> Path:
    return Path(settings.data_dir) / VAPID_FILE


def load_or_create_vapid(settings: Any) -> Any:
    """The wallet's VAPID key (a py_vapid `Vapid`), created on first use."""
    from py_vapid import Vapid

    path = _vapid_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        vapid = Vapid()
        vapid.generate_keys()
        pem = vapid.private_pem()
        create_private_file(path, pem)  # False: another process made it first; use theirs
    return Vapid.from_pem(path.read_bytes())


def vapid_public_key(settings: Any) -> str:
    """base64url (no padding) uncompressed P-256 point, for `applicationServerKey`."""
    from cryptography.hazmat.primitives import serialization

    vapid = load_or_create_vapid(settings)
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def send_push(settings: Any, subscription: dict[str, Any], payload: dict[str, Any]) -> None:
    """Encrypt and deliver one message; raises on failure, SubscriptionGone on 404/410."""
    from pywebpush import WebPushException, webpush

    endpoint = subscription["endpoint"]
    parts = urlsplit(endpoint)
    audience = f"{parts.scheme}://{parts.netloc}"
    try:
        webpush(
            subscription,
            json.dumps(payload),
            vapid_private_key=load_or_create_vapid(settings),
            vapid_claims={"sub": settings.vapid_subject, "aud": audience},
            ttl=PUSH_TTL_SECONDS,
            timeout=15,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            raise SubscriptionGone(endpoint) from None
        raise RuntimeError(f"push service answered {status}") from None
