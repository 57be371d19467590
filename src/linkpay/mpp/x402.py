"""x402 detection: a different, crypto-only 402 protocol we recognise but do not pay.

x402 merchants send `PAYMENT-REQUIRED: <base64 JSON {x402Version, accepts: [...]}>` (v1:
an `x402Version` JSON body). Our wallet holds cards and shared payment tokens, so we say
clearly that this is not supported, listing the offers (sanitized) for the agent.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from linkpay.mpp.errors import X402NotSupportedError
from linkpay.text import sanitize_deep


def detect_x402(headers: Any, body: bytes | None = None) -> X402NotSupportedError | None:
    """An error describing an x402 offer (`PAYMENT-REQUIRED` header / x402Version body)."""
    raw = headers.get("payment-required") if headers is not None else None
    data: Any = None
    if raw:
        try:
            padded = raw.strip() + "=" * (-len(raw.strip()) % 4)
            data = json.loads(base64.b64decode(padded.replace("-", "+").replace("_", "/")))
        except (ValueError, UnicodeDecodeError):
            data = None
    elif body:
        try:
            candidate = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            candidate = None
        if isinstance(candidate, dict) and "x402Version" in candidate:
            data = candidate
        else:
            return None
    else:
        return None
    offers: list[dict[str, Any]] = []
    if isinstance(data, dict) and isinstance(data.get("accepts"), list):
        for offer in data["accepts"][:10]:
            if isinstance(offer, dict):
                offers.append(
                    {
                        k: offer.get(k)
                        for k in ("scheme", "network", "asset", "amount", "maxAmountRequired")
                        if offer.get(k) is not None
                    }
                )
    return X402NotSupportedError(
        "This merchant asks for payment with x402 (crypto-only, PAYMENT-REQUIRED header), "
        "which is not supported: linkpay pays MPP stripe charges with shared payment tokens.",
        protocol="x402",
        offers=sanitize_deep(offers),
    )
