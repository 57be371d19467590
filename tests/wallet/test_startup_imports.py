"""What `link-wallet serve` loads before it answers: not Alembic (an empty database is
built from the models, one at head is left alone), not the optional or rarely needed
libraries (issuer SDKs, apprise, web push, WebAuthn, cryptography), not cyclopts
(the usual `serve` spellings need no command tree) and not the PostgreSQL dialect on
SQLite. Observed from outside: the real script runs with
PYTHONPROFILEIMPORTTIME=1, which lists every import on stderr; the test stops it once it
has answered HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from linkpay.fastapi_startup import LazyAPIRoute, analyse_all
from linkpay.serving import free_loopback_port
from linkpay.wallet.app import create_app
from linkpay.wallet.settings import Settings

NOT_AT_START = (
    "alembic",
    "stripe",
    "lithic",
    "apprise",
    "pywebpush",
    "webauthn",
    "sqlalchemy.dialects.postgresql",
    "cryptography",  # card secrets are sealed with the first card issued
    "cyclopts",  # `serve --no-access-log` is parsed by admin/fast_serve.py
)


def _serve_until_it_answers(data_dir: Path) -> set[str]:
    port = free_loopback_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPAY_", "LINK_"))}
    env.update(
        PYTHONPROFILEIMPORTTIME="1",
        LINKPAY_DATA_DIR=str(data_dir),
        LINKPAY_PORT=str(port),
    )
    log = data_dir / "stderr.txt"  # a file, not a pipe: the listing would fill a pipe
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "link-wallet"), "serve", "--no-access-log"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "link-wallet serve exited"
            assert time.monotonic() < deadline, "link-wallet serve never answered"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10):
                    break
            except urllib.error.HTTPError:
                break  # any HTTP answer
            except OSError:
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        line.rsplit("|", 1)[1].strip()
        for line in log.read_text().splitlines()
        if line.startswith("import time:")
    }


def _loaded(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_AT_START))


def test_serve_loads_no_migration_tool_or_optional_library(tmp_path: Path) -> None:
    fresh = _serve_until_it_answers(tmp_path)
    assert "fastapi" in fresh and "sqlalchemy" in fresh  # the listing is real
    assert not _loaded(fresh), _loaded(fresh)
    again = _serve_until_it_answers(tmp_path)  # the database is at head now
    assert not _loaded(again), _loaded(again)


def test_every_wallet_route_analyses(tmp_path: Path) -> None:
    """The wallet declares its routes lazily: a broken one must still fail a test run."""
    settings = Settings.from_env(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/w.db")
    app = create_app(settings)
    routes = [route for route in app.router.routes if isinstance(route, LazyAPIRoute)]
    assert len(routes) > 80
    analyse_all(routes)
    assert all(route.analysed for route in routes)


def test_the_card_vault_is_built_after_start_up_off_the_request_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not at start (see above), but a moment later, in a thread of its own: the first
    reveal (often a whole burst of woken long-polls) no longer imports cryptography."""
    from fastapi.testclient import TestClient

    from linkpay.wallet import app as wallet_app

    monkeypatch.setattr(wallet_app, "WARM_UP_AFTER_SECONDS", 0.0)
    settings = Settings.from_env(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/w.db")
    assert settings._card_vault is None
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while settings._card_vault is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert settings._card_vault is not None
        assert settings.card_vault() is settings._card_vault[1]
