"""`link-wallet serve` on start: mode, sign-in link (and that it only works on this
machine when the public URL is loopback), the next three steps; with
LINKPAY_LOG_FORMAT=json every log line is one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from linkpay.public_url import LOOPBACK_NOTE
from linkpay.serving import free_loopback_port

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))


def _start(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], int]:
    port = free_loopback_port()
    full = {**os.environ, "LINKPAY_DATA_DIR": str(tmp_path), **env}
    full.pop("LINKPAY_DATABASE_URL", None)
    process = subprocess.Popen(
        [LINK_WALLET, "serve", "--port", str(port)],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, port


def _read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    """Lines of output up to and including the first one containing `marker`."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("serve exited early:\n" + "".join(lines))
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError("no " + marker + " in:\n" + "\n".join(lines))


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_serve_says_mode_link_and_next_steps(tmp_path: Path) -> None:
    process, port = _start(tmp_path)
    try:
        lines = _read_until(process, "  3. ")
    finally:
        _stop(process)
    text = "\n".join(lines)
    assert "TEST MODE" in text and "no real money" in text
    [link_line] = [line for line in lines if "sign in to your wallet" in line]
    assert f"http://127.0.0.1:{port}/signin/" in link_line
    assert LOOPBACK_NOTE in text
    assert "link-wallet signin-link" in text
    steps = [line for line in lines if line.startswith("  ") and line[2].isdigit()]
    assert [s[:5] for s in steps] == ["  1. ", "  2. ", "  3. "]
    assert "card add --test" in steps[0]
    assert (
        "link-cli auth login" in steps[1]
        and f"LINK_API_BASE_URL=http://127.0.0.1:{port}" in steps[1]
    )
    assert "SKILL.md" in steps[2] and '"--mcp"' in steps[2]


def test_serve_json_logs_and_public_url(tmp_path: Path) -> None:
    process, port = _start(
        tmp_path,
        LINKPAY_LOG_FORMAT="json",
        LINKPAY_PUBLIC_URL="http://192.0.2.10:8765",
        LINKPAY_TEST_MODE="false",
    )
    try:
        banner = _read_until(process, "  3. ")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/no-such-page", timeout=2)
                break
            except httpx2.TransportError:
                time.sleep(0.2)
        logged = _read_until(process, "no-such-page")
    finally:
        _stop(process)
    text = "\n".join(banner)
    assert "LIVE MODE" in text and "http://192.0.2.10:8765/signin/" in text
    assert LOOPBACK_NOTE not in text  # a public address: no warning
    records = [json.loads(line) for line in logged if line.startswith("{")]
    assert records, logged
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert access and access[-1]["path"] == "/no-such-page" and access[-1]["status"] == 404
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
