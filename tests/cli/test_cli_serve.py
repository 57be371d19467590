"""`link-cli serve`: the skills at /.well-known/skills/, and the bearer token it
requires (generated, printed once) when bound to a non-loopback address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
from cli_helpers import wait_until

from linkpay.serving import free_loopback_port

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "pytest", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
REPO = Path(__file__).resolve().parents[2]


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _serve(cli_env: dict[str, str], *args: str, **env: str) -> tuple[subprocess.Popen[str], int]:
    port = free_loopback_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkpay.cli", "serve", "--port", str(port), *args],
        env={**os.environ, **cli_env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(
        lambda: _accepting(port) or proc.poll() is not None, timeout=90, what="serve to listen"
    )
    assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
    return proc, port


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def test_skills_are_served_read_only(cli_env: dict[str, str]) -> None:
    proc, port = _serve(cli_env)
    base = f"http://127.0.0.1:{port}/.well-known/skills"
    try:
        with httpx2.Client(timeout=10) as client:
            index = client.get(f"{base}/")
            assert index.status_code == 200
            skills = {s["name"]: s for s in index.json()["skills"]}
            assert {"link-cli", "financial-insights"} <= set(skills)
            assert skills["link-cli"]["description"].startswith("Pay for things")
            skill = client.get(f"{base}/{skills['link-cli']['path']}")
            assert skill.status_code == 200 and skill.headers["content-type"].startswith(
                "text/markdown"
            )
            assert skill.text == (REPO / "skills/link-cli/SKILL.md").read_text(encoding="utf-8")
            assert client.get(f"{base}/../pyproject.toml").status_code == 404
            assert client.get(f"{base}/link-cli/%2e%2e/%2e%2e/pyproject.toml").status_code == 404
            assert client.post(f"{base}/index.json").status_code == 405
            assert client.get(f"http://127.0.0.1:{port}/other").status_code == 404
    finally:
        _stop(proc)


def test_non_loopback_bind_needs_the_printed_token(cli_env: dict[str, str]) -> None:
    proc, port = _serve(cli_env, "--host", "0.0.0.0")
    try:
        lines = [proc.stderr.readline() for _ in range(2)]  # type: ignore[union-attr]
        assert "WARNING" in lines[0] and "not a loopback address" in lines[0]
        assert "Bearer token" in lines[1]
        token = lines[1].rsplit(" ", 1)[1].strip()
        assert len(token) >= 40
        url = f"http://127.0.0.1:{port}/mcp"
        with httpx2.Client(timeout=10) as client:
            anonymous = client.post(url, json=INIT, headers=HEADERS)
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            wrong = client.post(url, json=INIT, headers={**HEADERS, "Authorization": "Bearer x"})
            assert wrong.status_code == 401
            ok = client.post(
                url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"}
            )
            assert ok.status_code == 200 and "link-cli" in ok.text
    finally:
        _stop(proc)


def test_token_from_the_environment_is_not_printed(cli_env: dict[str, str]) -> None:
    chosen = "t" * 48
    proc, port = _serve(cli_env, "--host", "0.0.0.0", LINK_SERVE_TOKEN=chosen)
    try:
        with httpx2.Client(timeout=10) as client:
            answer: Any = client.post(
                f"http://127.0.0.1:{port}/mcp",
                json=INIT,
                headers={**HEADERS, "Authorization": f"Bearer {chosen}"},
            )
            assert answer.status_code == 200
    finally:
        _stop(proc)
        assert chosen not in proc.stderr.read()  # type: ignore[union-attr]
