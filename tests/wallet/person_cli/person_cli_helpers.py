"""Helpers for the `link-wallet` person-command tests: run the real entry point in
process on the test wallet's database, parse JSON output, assert error shapes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

Runner = Callable[..., tuple[int, str, str]]


def email() -> str:
    return f"cli-{secrets.token_hex(4)}@example.com"


def ok(run: Runner, *argv: str) -> Any:
    """Run with --format json; assert exit 0; the parsed result."""
    code, out, err = run(*argv, "--format", "json")
    assert code == 0, (argv, out, err)
    return json.loads(out)


def fails(run: Runner, *argv: str, code: str | None = None) -> dict[str, Any]:
    """Run with --format json; assert exit 1 with exactly {code, message}."""
    exit_code, out, err = run(*argv, "--format", "json")
    assert exit_code == 1, (argv, out, err)
    assert "Traceback" not in out + err
    body = json.loads(out)
    assert set(body) == {"code", "message"} and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return dict(body)
