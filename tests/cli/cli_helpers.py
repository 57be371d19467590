"""Helpers shared by the link-cli tests (a uniquely named module: several test folders
have a conftest.py, so `from conftest import …` would be ambiguous in a full run)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

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
