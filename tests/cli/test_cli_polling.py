"""Polling as a separate process: the approval is seen while `retrieve --interval`
runs, through the wallet's long-poll (well before the fallback interval)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from cli_helpers import create_args, wait_until


def _waiting_on(wallet: Any, spend_request_id: str) -> bool:
    watcher = getattr(wallet.app.state, "spend_request_watcher", None)
    return bool(watcher and watcher._waiters.get(spend_request_id))


def test_long_poll_sees_approval_while_polling(
    wallet: Any, logged_in: str, cli: Any, cli_env: dict[str, str]
) -> None:
    created = cli(*create_args("--request-approval", amount="2300"), "--format", "json").json()
    spend_id = created["id"]
    fallback_interval = 20  # if long-poll did not work, approval would be seen after 20 s
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "linkpay.cli",
            "spend-request",
            "retrieve",
            spend_id,
            "--interval",
            str(fallback_interval),
            "--timeout",
            "60",
            "--format",
            "jsonl",
        ],
        env={**os.environ, **cli_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        assert first["status"] == "pending_approval"
        wait_until(lambda: _waiting_on(wallet, spend_id), what="the CLI's long-poll")
        approved_at = time.monotonic()
        wallet.approve(spend_id, logged_in)
        second = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        latency = time.monotonic() - approved_at
        assert second["status"] == "approved" and "APPROVED" in second["instruction"]
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read().strip() == ""  # type: ignore[union-attr]  # one line per change
        print(f"long-poll approval latency: {latency * 1000:.0f} ms")
        assert latency < fallback_interval
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
