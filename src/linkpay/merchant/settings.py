"""Settings of the demo merchant: where its processor (the wallet) is and who it is there.

`MerchantSettings.from_env(**overrides)` reads `LINKPAY_MERCHANT_*`:
WALLET_URL (default http://127.0.0.1:8765), API_KEY (the merchant's `sk_test_…` key at
the wallet), NETWORK_ID (its `profile_…` id, put into MPP challenges), SECRET (HMAC key
for challenge ids; random per process when unset, so challenges don't survive a
restart), REALM (default: the host of PUBLIC_URL), DATABASE_URL (the merchant's own
database for used challenge ids; in memory when unset), PUBLIC_URL.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit


@dataclass(frozen=True)
class MerchantSettings:
    wallet_url: str = "http://127.0.0.1:8765"
    api_key: str = field(default="", repr=False)
    network_id: str = ""
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    public_url: str = "http://127.0.0.1:8780"
    realm: str | None = None
    database_url: str | None = None
    name: str = "Linkpay Demo Merchant"
    fortune_price: int = 100  # cents
    currency: str = "usd"

    @property
    def effective_realm(self) -> str:
        return self.realm or urlsplit(self.public_url).netloc or "localhost"

    @classmethod
    def from_env(cls, **overrides: object) -> MerchantSettings:
        env = os.environ
        values: dict[str, object] = {}
        for name, key in (
            ("wallet_url", "WALLET_URL"),
            ("api_key", "API_KEY"),
            ("network_id", "NETWORK_ID"),
            ("secret_key", "SECRET"),
            ("public_url", "PUBLIC_URL"),
            ("realm", "REALM"),
            ("database_url", "DATABASE_URL"),
        ):
            if f"LINKPAY_MERCHANT_{key}" in env:
                values[name] = env[f"LINKPAY_MERCHANT_{key}"]
        return replace(cls(**values), **overrides)  # type: ignore[arg-type]
