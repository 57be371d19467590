"""Wallet settings, read from `LINKPAY_*` environment variables with local defaults.

Secrets (`card_key`, `pepper`) come from the environment (base64) or from 0600 key files
in `data_dir`, created on first use, so a fresh install needs no configuration and a DB
dump alone never holds the keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

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
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another process won the race: use its key
            raw = path.read_bytes()
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(base64.b64encode(key))
            return key
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


@dataclass
class Settings:
    """Everything the wallet needs to run. Build with `Settings.from_env(**overrides)`."""

    data_dir: Path = field(default_factory=_default_data_dir)
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
    # --- The person's web app and notifications (WEB) ---
    # Web sessions and one-time sign-in links (owner link from `serve`, email links).
    web_session_ttl_seconds: int = 14 * 24 * 3600
    signin_link_ttl_seconds: int = 900
    # Email through SMTP; off while smtp_host is empty. smtp_tls: starttls | ssl | none.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    # Web push: VAPID keys live in data_dir (vapid_private.pem, 0600); `sub` claim.
    vapid_subject: str = "mailto:wallet@localhost"
    # Operator-wide apprise URLs (space separated), on top of each person's own.
    notify_urls: str = field(default="", repr=False)
    # Seconds to wait before each retry of a failing notification channel.
    notify_retry_seconds: str = "2,10,60"
    card_key_b64: str | None = field(default=None, repr=False)
    pepper_b64: str | None = field(default=None, repr=False)
    _card_key: bytes | None = field(default=None, repr=False)
    _pepper: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
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

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults < `LINKPAY_<FIELD>` environment variables < explicit overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name.startswith("_"):
                continue
            env_name = "LINKPAY_" + f.name.upper()
            if f.name == "card_key_b64":
                env_name = "LINKPAY_CARD_KEY"
            elif f.name == "pepper_b64":
                env_name = "LINKPAY_PEPPER"
            raw = os.environ.get(env_name)
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, f.type, raw)
        for key, value in overrides.items():
            if key == "card_key":
                key, value = "_card_key", value
            elif key == "pepper":
                key, value = "_pepper", value
            values[key] = value
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **overrides)

    @property
    def card_key(self) -> bytes:
        """AES-GCM key for card secrets at rest."""
        if self._card_key is None:
            if self.card_key_b64:
                self._card_key = _decode_key("LINKPAY_CARD_KEY", self.card_key_b64)
            else:
                self._card_key = _load_or_create_key(self.data_dir, "card.key")
        return self._card_key

    @property
    def pepper(self) -> bytes:
        """HMAC key for low-entropy codes (device phrases) and card fingerprints."""
        if self._pepper is None:
            if self.pepper_b64:
                self._pepper = _decode_key("LINKPAY_PEPPER", self.pepper_b64)
            else:
                self._pepper = _load_or_create_key(self.data_dir, "pepper.key")
        return self._pepper


def _coerce(name: str, type_: Any, raw: str) -> Any:
    type_name = type_ if isinstance(type_, str) else getattr(type_, "__name__", str(type_))
    type_name = type_name.replace(" | None", "").replace("None | ", "").strip()
    if type_name == "float":
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"LINKPAY_{name.upper()}: expected a number") from exc
    if type_name == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"LINKPAY_{name.upper()}: expected true/false, got {raw!r}")
    if type_name == "int":
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"LINKPAY_{name.upper()}: expected an integer") from exc
    if type_name == "Path":
        return Path(raw).expanduser()
    return raw
