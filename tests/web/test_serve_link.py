"""`link-wallet serve` prints a one-time owner sign-in link that opens the wallet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx2

from linkpay.serving import free_loopback_port


def test_serve_prints_an_owner_signin_link(tmp_path: Path) -> None:
    port = free_loopback_port()
    env = {**os.environ, "LINKPAY_DATA_DIR": str(tmp_path)}
    env.pop("LINKPAY_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "linkpay.wallet.admin", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        link = None
        assert process.stderr is not None
        for line in process.stderr:
            match = re.search(r"sign in to your wallet .*: (http://\S+/signin/\S+)", line)
            if match:
                link = match.group(1)
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        assert link is not None and link.startswith(f"http://127.0.0.1:{port}/signin/")
        page = httpx2.get(link, timeout=10)
        assert page.status_code == 200
        assert "owner@localhost" in page.text or "Sign in as" in page.text
    finally:
        process.terminate()
        process.wait(timeout=15)
