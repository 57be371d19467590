"""Settings from the environment, key files, ids."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from linkpay.wallet.ids import new_id
from linkpay.wallet.settings import Settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("LINKPAY_"):
            monkeypatch.delenv(key)
    s = Settings.from_env(data_dir=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'wallet.db'}"
    assert (s.host, s.port, s.public_url) == ("127.0.0.1", 8765, "http://127.0.0.1:8765")
    assert s.test_mode is True and s.approval_window_seconds == 600
    assert s.credential_validity_seconds == 43200 and s.device_code_ttl_seconds == 600
    assert s.device_poll_interval == 5 and s.access_token_ttl_seconds == 3600
    assert s.refresh_token_ttl_seconds == 30 * 24 * 3600


def test_environment_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKPAY_PORT", "9999")
    monkeypatch.setenv("LINKPAY_TEST_MODE", "false")
    monkeypatch.setenv("LINKPAY_DATA_DIR", str(tmp_path))
    s = Settings.from_env(host="0.0.0.0")
    assert s.port == 9999 and s.test_mode is False and s.host == "0.0.0.0"
    assert s.public_url == "http://127.0.0.1:9999" and s.data_dir == tmp_path
    assert Settings.from_env(host="::1").public_url == "http://[::1]:9999"
    assert Settings.from_env(public_url="https://wallet.example/").public_url == (
        "https://wallet.example"
    )
    monkeypatch.setenv("LINKPAY_PORT", "many")
    with pytest.raises(ValueError, match="LINKPAY_PORT"):
        Settings.from_env()


def test_key_files_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = Settings.from_env(data_dir=tmp_path / "d")
    key, pepper = first.card_key, first.pepper
    assert len(key) == 32 and len(pepper) == 32 and key != pepper
    for name in ("card.key", "pepper.key"):
        mode = stat.S_IMODE((tmp_path / "d" / name).stat().st_mode)
        assert mode == 0o600
    again = Settings.from_env(data_dir=tmp_path / "d")
    assert again.card_key == key and again.pepper == pepper


def test_keys_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bytes(range(32))
    monkeypatch.setenv("LINKPAY_CARD_KEY", base64.b64encode(raw).decode())
    s = Settings.from_env(data_dir=tmp_path)
    assert s.card_key == raw and not (tmp_path / "card.key").exists()
    monkeypatch.setenv("LINKPAY_CARD_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="32 bytes"):
        _ = Settings.from_env(data_dir=tmp_path).card_key
    assert Settings.from_env(data_dir=tmp_path, card_key=raw).card_key == raw


def test_card_vault_is_built_once_per_set_of_keys(tmp_path: Path) -> None:
    from pydantic import SecretStr

    s = Settings.from_env(data_dir=tmp_path, card_key=bytes(range(32)))
    vault = s.card_vault()
    assert s.card_vault() is vault
    s._card_key = bytes(range(1, 33))  # a new active key: a new vault
    rotated = s.card_vault()
    assert rotated is not vault and s.card_vault() is rotated
    s.previous_card_keys = SecretStr(base64.b64encode(bytes(range(32))).decode())
    assert s.card_vault() is not rotated


def test_secrets_not_in_repr(tmp_path: Path) -> None:
    s = Settings.from_env(data_dir=tmp_path)
    _ = s.card_key
    assert "card_key" not in repr(s) and "pepper" not in repr(s)


def test_new_id() -> None:
    ids = {new_id("lsrq") for _ in range(1000)}
    assert len(ids) == 1000
    sample = ids.pop()
    assert sample.startswith("lsrq_") and len(sample) == 5 + 24
    assert sample[5:].isalnum()
