"""`link-cli demo` as a person or a script runs it: a subprocess on a clean environment
(what `scripts/demo` does), and the interactive menu + approval prompt under tmux."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

LINK_CLI = str(Path(sys.executable).parent / "link-cli")
CARD_NUMBER_RUN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def _clean_env(tmp_path: Path) -> dict[str, str]:
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


def test_noninteractive_demo_runs_both_flows_end_to_end(tmp_path):
    env = _clean_env(tmp_path)
    done = subprocess.run(
        [LINK_CLI, "demo", "--yes", "--format", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["succeeded"] is True and summary["mode"] == "embedded"

    card = summary["flows"]["card"]
    assert card["succeeded"] is True and card["status"] == "succeeded"
    assert card["spend_request_id"].startswith("lsrq_")
    assert card["checkout"]["outcome"] == "succeeded"
    assert card["checkout"]["order_id"].startswith("ord_")
    assert set(card["card"]) == {"brand", "last4", "exp_month", "exp_year"}

    spt = summary["flows"]["spt"]
    assert spt["succeeded"] is True and spt["status"] == "succeeded"
    assert spt["http_status"] == 200
    assert spt["receipt"]["status"] == "success" and spt["receipt"]["reference"].startswith("pi_")
    assert spt["response"]["paid"]["reference"] == spt["receipt"]["reference"]

    # Narration went to stderr, one line per step; no card number anywhere.
    assert "[5/5] The wallet records the payment" in done.stderr
    assert not CARD_NUMBER_RUN.search(done.stdout + done.stderr)
    # The embedded wallet cleaned up after itself, and no auth file was written for the user.
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not any((tmp_path / "config").rglob("auth.json"))


def test_demo_flags_exclude_each_other(tmp_path):
    done = subprocess.run(
        [LINK_CLI, "demo", "--only-card", "--only-spt", "--format", "json"],
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["code"] == "INVALID_INPUT"


def test_demo_without_tty_is_noninteractive_and_honours_only_spt(tmp_path):
    done = subprocess.run(
        [LINK_CLI, "demo", "--only-spt", "--format", "json"],
        env=_clean_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert list(summary["flows"]) == ["spt"] and summary["flows"]["spt"]["http_status"] == 200


class Tmux:
    """One private tmux server (own socket) running one command in a 120x60 pane."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"linkpay-demo-{uuid.uuid4().hex[:8]}"
        self.env = env
        self._tmux("new-session", "-d", "-s", "demo", "-x", "120", "-y", "60", " ".join(command))

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


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_interactive_demo_menu_card_flow_and_approval_prompt(tmp_path):
    env = _clean_env(tmp_path)
    env["TERM"] = "xterm-256color"
    script = tmp_path / "run.sh"
    script.write_text(f'#!/bin/sh\n"{LINK_CLI}" demo\necho "DEMO EXIT $?"\nsleep 120\n')
    script.chmod(0o755)
    tmux = Tmux([str(script)], env)
    try:
        menu = tmux.wait_for("Choose 1-3 [3]:")
        assert "1) Card: pay at a checkout page with a one-time virtual card" in menu
        assert "2) Machine payment: pay an HTTP 402 API" in menu
        tmux.send("1", "Enter")

        prompt = tmux.wait_for("approve as the test person? [y/n]")
        assert "Step 2/5: The person approves" in prompt
        assert re.search(r"http://127\.0\.0\.1:\d+/approve/lsrq_\w+", prompt)
        assert "▄" in prompt or "█" in prompt or "▀" in prompt  # the QR code
        tmux.send("y", "Enter")

        screen = tmux.wait_for("DEMO EXIT")
        assert "DEMO EXIT 0" in screen
        assert "The person approved lsrq_" in screen
        assert re.search(r"Visa •••• \d{4}  exp \d\d/\d\d", screen)
        assert "Checkout page: Thank you, your order is confirmed." in screen
        assert re.search(r"Spend request lsrq_\w+ is succeeded\.", screen)
        assert "Machine payment" not in screen.split("Choose 1-3")[1]  # only the card flow ran
        assert not CARD_NUMBER_RUN.search(screen)
    finally:
        tmux.close()
