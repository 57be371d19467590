"""The data dir is 0700 and the SQLite database (with its WAL and SHM files) 0600,
however loose the umask, and an existing install is tightened at start."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from linkpay.wallet.app import create_app
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.migrations import upgrade_to_head


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _start_and_write(data_dir: Path) -> dict[str, int]:
    """Start the wallet, write once, and return the modes seen while it runs."""
    settings = Settings.from_env(data_dir=data_dir)
    upgrade_to_head(settings.database_url)
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/no-such-page").status_code == 404
        from linkpay.wallet import accounts
        from linkpay.wallet.store.db import transaction

        with transaction(app.state.sessionmaker) as session:  # a write: WAL + SHM exist
            accounts.create_user(session, email="modes@example.com", name="Mode Test")
        names = ("wallet.db", "wallet.db-wal", "wallet.db-shm")
        return {"dir": _mode(data_dir)} | {name: _mode(data_dir / name) for name in names}


def test_fresh_install_is_owner_only(tmp_path: Path, loose_umask: None) -> None:
    data_dir = tmp_path / "fresh" / "linkpay"
    modes = _start_and_write(data_dir)
    assert modes == {
        "dir": 0o700,
        "wallet.db": 0o600,
        "wallet.db-wal": 0o600,
        "wallet.db-shm": 0o600,
    }


def test_existing_loose_install_is_tightened(tmp_path: Path, loose_umask: None) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    database = data_dir / "wallet.db"
    upgrade_to_head(f"sqlite:///{database}")
    os.chmod(database, 0o644)
    modes = _start_and_write(data_dir)
    assert modes["dir"] == 0o700
    assert modes["wallet.db"] == 0o600
