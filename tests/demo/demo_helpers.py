"""Helpers shared by the demo's CLI tests: a clean environment and a private tmux."""

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

LINK_CLI = str(Path(sys.executable).parent / "link-cli")
CARD_NUMBER_RUN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No LINK_*/LINKPAY_* settings, a fresh HOME and XDG dirs, a private TMPDIR."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LINK_", "LINKPAY_", "XDG_"))
    }
    for name in ("home", "config", "data", "cache", "state", "tmp"):
        (tmp_path / name).mkdir()
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        TMPDIR=str(tmp_path / "tmp"),
        NO_UPDATE_NOTIFIER="1",
        NO_COLOR="1",
    )
    return env


class Tmux:
    """One private tmux server (own socket) running one command in a 120x60 pane."""

    def __init__(self, command: list[str], env: dict[str, str], width: int = 120) -> None:
        self.socket = f"linkpay-demo-{uuid.uuid4().hex[:8]}"
        self.env = env
        self._tmux(
            "new-session", "-d", "-s", "demo", "-x", str(width), "-y", "60", " ".join(command)
        )

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-S", "-1000", "-t", "demo")

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "demo", *keys)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on screen:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            timeout=20,
        )
