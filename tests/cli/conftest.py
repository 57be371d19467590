"""Fixtures for link-cli tests: run the real entry point in-process (`cli`) or as a
subprocess (`cli_proc`), with an isolated auth file and base URLs, and log in an agent
against the real wallet (`logged_in`). Plain helpers live in `cli_helpers.py`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Outcome, closed_port_url, point_at


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for one test: own auth file, no ambient tokens, wallet down."""
    for name in ("LINK_ACCESS_TOKEN", "LINK_REFRESH_TOKEN", "LINK_NO_REFRESH", "LINK_HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    url = closed_port_url()
    env = {
        "LINK_AUTH_FILE": str(tmp_path / "auth.json"),
        "LINK_API_BASE_URL": url,
        "LINK_AUTH_BASE_URL": url,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "NO_UPDATE_NOTIFIER": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def cli(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`cli(*args) -> Outcome`: linkpay.cli.app.run, the code behind `link-cli`."""
    from linkpay.cli.app import run

    def invoke(*args: str, **env: str) -> Outcome:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        out, err = io.StringIO(), io.StringIO()
        code = run(list(args), stdout=out, stderr=err)
        return Outcome(code, out.getvalue(), err.getvalue())

    return invoke


@pytest.fixture
def cli_proc(cli_env: dict[str, str]) -> Any:
    """`cli_proc(*args) -> Outcome`: `python -m linkpay.cli` in a subprocess."""

    def invoke(*args: str, timeout: float = 60, **env: str) -> Outcome:
        full_env = {**os.environ, **cli_env, **env}
        done = subprocess.run(
            [sys.executable, "-m", "linkpay.cli", *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    return invoke


@pytest.fixture
def logged_in(
    wallet: Any, person: str, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """The CLI points at the real wallet with tokens for `person` in its auth file."""
    from linkpay.client.tokens import Tokens, TokenStore

    point_at(wallet, monkeypatch, cli_env)
    token = wallet.agent_login(person)
    TokenStore(Path(cli_env["LINK_AUTH_FILE"])).save(Tokens.from_token_response(token))
    return person


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
