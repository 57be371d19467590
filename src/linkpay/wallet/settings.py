"""Wallet settings, read from `LINKPAY_<FIELD>` environment variables with local defaults.

pydantic-settings does the reading and type checking; `Settings.from_env` turns a bad
value into one error that names the environment variable. Secrets (`card_key`, `pepper`)
come from the environment (base64) or from 0600 key files in `data_dir`, created on first
use, so a fresh install needs no configuration and a DB dump alone never holds the keys.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from linkpay.files import create_private_file
from linkpay.wallet.crypto import CardVault

_KEY_BYTES = 32


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("linkpay", appauthor=False))


def _load_or_create_key(data_dir: Path, filename: str) -> bytes:
    """Read a 32-byte key file, or create it with mode 0600 (O_EXCL: never clobber)."""
    path = data_dir / filename
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(_KEY_BYTES)
        if create_private_file(path, base64.b64encode(key)):
            return key
        raw = path.read_bytes()  # another process won the race: use its key
    key = base64.b64decode(raw.strip())
    if len(key) != _KEY_BYTES:
        raise ValueError(f"{path}: expected a base64 {_KEY_BYTES}-byte key")
    return key


def _decode_key(name: str, value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name}: not valid base64") from exc
    if len(key) != _KEY_BYTES:
        raise ValueError(f"{name}: expected {_KEY_BYTES} bytes, got {len(key)}")
    return key


def _secret(env_name: str) -> Any:
    """A base64 key field read from `env_name` (its env var predates the field name)."""
    return Field(default=None, repr=False, validation_alias=env_name)


class Settings(BaseSettings):
    """Everything the wallet needs to run. Build with `Settings.from_env(**overrides)`."""

    model_config = SettingsConfigDict(
        env_prefix="LINKPAY_", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str = ""
    test_mode: bool = True
    approval_window_seconds: int = 600
    credential_validity_seconds: int = 43_200
    device_code_ttl_seconds: int = 600
    device_poll_interval: int = 5
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # The local owner `link-wallet serve` makes sure exists (a self-hosted wallet
    # usually belongs to one person).
    owner_email: str = "owner@localhost"
    owner_name: str | None = None
    # --- The person's web app and notifications ---
    # Web sessions and one-time sign-in links (owner link from `serve`, email links).
    web_session_ttl_seconds: int = 14 * 24 * 3600
    signin_link_ttl_seconds: int = 900
    # Email through SMTP; off while smtp_host is empty. smtp_tls: starttls | ssl | none.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = Field(default=SecretStr(""), repr=False)
    smtp_from: str = ""
    # Web push: VAPID keys live in data_dir (vapid_private.pem, 0600); `sub` claim.
    vapid_subject: str = "mailto:wallet@localhost"
    # Operator-wide apprise URLs (space separated), on top of each person's own.
    notify_urls: SecretStr = Field(default=SecretStr(""), repr=False)
    # Seconds to wait before each retry of a failing notification channel.
    notify_retry_seconds: str = "2,10,60"
    # --- The person's limits (docs/policy.md): the most a person may raise each to.
    # They start at Link's defaults ($500 a request and a day, $20,000 per 30 days,
    # 30 active, 10 approved-but-unused, 50 creates an hour and 200 per 60 days).
    policy_max_per_request: int = 50_000
    policy_max_per_day: int = 1_000_000
    policy_max_per_30_days: int = 10_000_000
    policy_max_max_active: int = 200
    policy_max_max_approved_unused: int = 200
    policy_max_creates_per_hour: int = 500
    policy_max_creates_per_60_days: int = 5_000
    # --- Capacity and overload (docs/operations.md) ---
    # Largest request body accepted; bigger ones get 413 before auth.
    max_body_bytes: int = 1024 * 1024
    # Worker processes of `link-wallet serve --workers N` (sizes each worker's pool).
    workers: int = 1
    # PostgreSQL: connections this host may open in all; 0 pool size = derived from it.
    db_connection_budget: int = 80
    db_pool_size: int = 0
    # Wait this long for a pooled connection / SQLite's write lock, then answer 503.
    db_pool_timeout_seconds: float = 5.0
    sqlite_busy_timeout_seconds: float = 10.0
    # One log line per request (uvicorn's access log); off saves CPU under load.
    access_log: bool = True
    # `serve`'s log lines: text, or json (one object per line, domain events included).
    log_format: Literal["text", "json"] = "text"
    # Where rate-limit counters live (a `limits` storage URI such as redis://host:6379).
    # Empty: the wallet database on PostgreSQL (shared by all hosts), memory on SQLite.
    rate_limit_storage_url: str = ""
    # Redis: every key starts with this, so wallets (or anything else) can share one.
    rate_limit_key_prefix: str = "linkpay"
    # A job worker that dies (kill -9) holds its outbox jobs this long, then any
    # worker retries them.
    job_lease_seconds: float = 60.0
    # The job thread's first pass comes a second after start, or sooner when a job is
    # queued; set, it comes this many seconds after start, whatever is queued (the
    # demo's short-lived embedded wallet: 10).
    job_hold_first_pass_seconds: float = 0.0
    # OAuth client ids allowed to choose a spend request's `expires_at` (3 h to 7 d
    # ahead, instead of the default credential validity); comma or space separated.
    extended_expiry_client_ids: str = ""
    # Point the official Stripe / Lithic SDKs at another server (tests, a proxy).
    stripe_api_base: str = ""
    lithic_base_url: str = ""
    # Base64 keys (LINKPAY_CARD_KEY, LINKPAY_PEPPER); unset: key files in data_dir.
    card_key_b64: SecretStr | None = _secret("LINKPAY_CARD_KEY")
    pepper_b64: SecretStr | None = _secret("LINKPAY_PEPPER")
    # Card keys that were active before (base64, space separated): still accepted for
    # opening sealed secrets while they are re-wrapped with the active key.
    previous_card_keys: SecretStr = Field(default=SecretStr(""), repr=False)
    _card_key: bytes | None = PrivateAttr(default=None)
    _pepper: bytes | None = PrivateAttr(default=None)
    # (the keys it was built from, the vault): built once, rebuilt if the keys change.
    _card_vault: tuple[tuple[bytes, str], CardVault] | None = PrivateAttr(default=None)

    @property
    def extended_expiry_clients(self) -> frozenset[str]:
        return frozenset(self.extended_expiry_client_ids.replace(",", " ").split())

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _derive_urls(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'wallet.db'}"
        if not self.public_url:
            # A wildcard bind address is no place to send a browser; links then point
            # at this machine (set LINKPAY_PUBLIC_URL for other devices on the network).
            link_host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            if ":" in link_host:
                link_host = f"[{link_host}]"
            self.public_url = f"http://{link_host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults < `LINKPAY_<FIELD>` environment variables < explicit overrides.

        `card_key=` / `pepper=` take raw 32-byte keys (tests, embedded wallets sharing keys).
        """
        card_key = overrides.pop("card_key", None)
        pepper = overrides.pop("pepper", None)
        try:
            settings = cls(**overrides)
        except ValidationError as exc:
            raise ValueError(_explain(exc)) from None
        settings._card_key = card_key
        settings._pepper = pepper
        return settings

    @property
    def card_key(self) -> bytes:
        """AES-GCM key for card secrets at rest."""
        if self._card_key is None:
            if self.card_key_b64 is not None:
                raw = self.card_key_b64.get_secret_value()
                self._card_key = _decode_key("LINKPAY_CARD_KEY", raw)
            else:
                self._card_key = _load_or_create_key(self.data_dir, "card.key")
        return self._card_key

    def card_vault(self) -> CardVault:
        """Seals card and notification secrets with `card_key`; opens with it or with
        any of `previous_card_keys` (key rotation). Built once per set of keys: every
        card reveal and issue asks for it, and building one decodes and hashes each key."""
        keys = (self.card_key, self.previous_card_keys.get_secret_value())
        built = self._card_vault
        if built is None or built[0] != keys:
            name = "LINKPAY_PREVIOUS_CARD_KEYS"
            previous = [_decode_key(name, value) for value in keys[1].split()]
            built = self._card_vault = (keys, CardVault(keys[0], previous))
        return built[1]

    @property
    def pepper(self) -> bytes:
        """HMAC key for low-entropy codes (device phrases) and card fingerprints."""
        if self._pepper is None:
            if self.pepper_b64 is not None:
                self._pepper = _decode_key("LINKPAY_PEPPER", self.pepper_b64.get_secret_value())
            else:
                self._pepper = _load_or_create_key(self.data_dir, "pepper.key")
        return self._pepper


def _explain(exc: ValidationError) -> str:
    """One line per bad value, named by its environment variable; never the value itself."""
    lines = []
    for error in exc.errors(include_input=False):
        name = str(error["loc"][0]) if error["loc"] else "settings"
        env_name = name if name.startswith("LINKPAY_") else "LINKPAY_" + name.upper()
        lines.append(f"{env_name}: {error['msg']}")
    return "; ".join(lines)
