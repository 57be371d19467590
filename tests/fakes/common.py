"""Pieces both provider fakes share: form decoding, faults, idempotency, signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's bracket form encoding (`a[b][0][c]=v`) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt = parts[index + 1] if not last else None
            container: Any = [] if nxt is not None and (nxt.isdigit() or nxt == "") else {}
            if isinstance(node, list):
                position = int(part) if part.isdigit() else len(node)
                while len(node) <= position:
                    node.append(None)
                if last:
                    node[position] = value
                else:
                    node[position] = node[position] if node[position] is not None else container
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, container)
    return root


def unknown_param(params: dict[str, Any], allowed: dict[str, Any], prefix: str = "") -> str | None:
    """The first parameter not in `allowed` (nested: a dict of allowed sub-keys, or
    `True` for anything below), as Stripe names it (`a[b]`); None when all are known."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in allowed:
            return name
        rule = allowed[key]
        if isinstance(rule, dict) and isinstance(value, dict):
            found = unknown_param(value, rule, name)
            if found:
                return found
        if isinstance(rule, dict) and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    found = unknown_param(item, rule, f"{name}[{index}]")
                    if found:
                        return found
    return None


@dataclass
class Faults:
    """Make the next `count` API calls fail with `status` (a provider outage)."""

    count: int = 0
    status: int = 500
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self.count, self.status = count, status

    def take(self) -> int | None:
        with self._lock:
            if self.count <= 0:
                return None
            self.count -= 1
            return self.status


@dataclass
class Idempotency:
    """Stripe's rule: the same key with the same parameters replays the first answer;
    the same key with other parameters is an `idempotency_error`."""

    seen: dict[tuple[str, str], tuple[str, int, bytes]] = field(default_factory=dict)

    def lookup(self, scope: str, key: str, fingerprint: str) -> tuple[int, bytes] | str | None:
        entry = self.seen.get((scope, key))
        if entry is None:
            return None
        if entry[0] != fingerprint:
            return "mismatch"
        return entry[1], entry[2]

    def store(self, scope: str, key: str, fingerprint: str, status: int, body: bytes) -> None:
        self.seen[(scope, key)] = (fingerprint, status, body)


def stripe_signature(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe signs: HMAC-SHA256 keyed by the whole
    `whsec_…` secret over `"{t}.{payload}"`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def standard_webhook_headers(
    secret: str, msg_id: str, payload: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Standard Webhooks headers as Lithic signs: key = base64 after `whsec_`,
    signature = base64 HMAC-SHA256 over `"{id}.{timestamp}.{payload}"`."""
    t = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{t}.".encode() + payload, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(t),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
