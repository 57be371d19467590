"""Helpers shared by the link-cli tests (a uniquely named module: several test folders
have a conftest.py, so `from conftest import …` would be ambiguous in a full run)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LINK_CLI = str(Path(sys.executable).parent / "link-cli")
CONTEXT = (
    "Buying one blue ceramic coffee mug for the person's kitchen, as they asked in chat "
    "today; nothing else is in the basket."
)


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def closed_port_url() -> str:
    """A loopback URL nothing listens on (bound then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def point_at(wallet: Any, monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]) -> None:
    for key in ("LINK_API_BASE_URL", "LINK_AUTH_BASE_URL"):
        monkeypatch.setenv(key, wallet.base_url)
        cli_env[key] = wallet.base_url


def create_args(*extra: str, amount: str = "1500") -> list[str]:
    return [
        "spend-request",
        "create",
        "-m",
        "Mug Shop",
        "--merchant-url",
        "https://mugs.example",
        "--amount",
        amount,
        "--context",
        CONTEXT,
        "--line-item",
        f"name:Blue mug,quantity:1,unit_amount:{amount}",
        *extra,
    ]


def wait_until(condition: Any, timeout: float = 15.0, what: str = "condition") -> None:
    """Wait for a condition (not a fixed sleep): checks every 10 ms until `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def run_link_cli(
    argv: list[str], env: dict[str, str], **extra_env: str
) -> tuple[Outcome, set[str]]:
    """`link-cli ARGV` as a shell runs it; (outcome, top-level names of imported modules)."""
    full_env = {**os.environ, **env, "PYTHONPROFILEIMPORTTIME": "1", **extra_env}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        if name not in extra_env:
            full_env.pop(name, None)
    done = subprocess.run(
        [LINK_CLI, *argv],
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, stderr = set(), []
    for line in done.stderr.splitlines():
        if line.startswith("import time:"):
            name = line.rsplit("|", 1)[1].strip()
            if not name.startswith("package"):  # the header line
                modules.add(name)
        else:
            stderr.append(line)
    return Outcome(done.returncode, done.stdout, "\n".join(stderr)), modules
