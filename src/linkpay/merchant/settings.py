"""Settings of the demo merchant: where its processor (the wallet) is and who it is there.

Read by pydantic-settings from `LINKPAY_MERCHANT_<FIELD>`: WALLET_URL (default
http://127.0.0.1:8765), API_KEY (the merchant's `sk_test_…` key at the wallet),
NETWORK_ID (its `profile_…` id, put into MPP challenges), SECRET (HMAC key for challenge
ids; random per process when unset, so challenges don't survive a restart), REALM
(default: the host of PUBLIC_URL), DATABASE_URL (the merchant's own database for used
challenge ids; in memory when unset), PUBLIC_URL, NAME, FORTUNE_PRICE, CURRENCY.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class MerchantSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LINKPAY_MERCHANT_",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    wallet_url: str = "http://127.0.0.1:8765"
    api_key: SecretStr = Field(default=SecretStr(""), repr=False)
    network_id: str = ""
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        repr=False,
        validation_alias="LINKPAY_MERCHANT_SECRET",
    )
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
    def from_env(cls, **overrides: Any) -> MerchantSettings:
        """Defaults < `LINKPAY_MERCHANT_*` environment variables < explicit overrides."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            names = ", ".join(
                "LINKPAY_MERCHANT_" + str(e["loc"][0]).upper().removeprefix("LINKPAY_MERCHANT_")
                for e in exc.errors(include_input=False)
            )
            raise ValueError(f"invalid merchant settings: {names}") from None

    def served_at(self, public_url: str) -> MerchantSettings:
        """The same settings for a merchant listening at `public_url`."""
        return self.model_copy(update={"public_url": public_url})
