"""`link-wallet serve` spellings parsed without cyclopts (`admin/fast_serve.py`) bind
exactly what cyclopts binds, and everything else is declined (then cyclopts parses it
and reports any error)."""

from __future__ import annotations

from typing import Any

import pytest

from linkpay.wallet.admin.app import build_app
from linkpay.wallet.admin.context import AdminContext
from linkpay.wallet.admin.fast_serve import parse

TAKEN = [
    [],
    ["--port", "8080"],
    ["--port=8080"],
    ["--host", "0.0.0.0", "--port", "0"],
    ["--public-url", "https://wallet.example.com", "--workers", "2"],
    ["--public-url=http://192.168.1.20:8765", "--host=0.0.0.0"],
    ["--no-access-log"],
    ["--access-log", "--workers=1", "--port", "65535"],
    ["--workers", "4", "--no-access-log", "--host", "::1"],
]
DECLINED = [
    ["--help"],
    ["-h"],
    ["--port"],
    ["--port", "08080"],
    ["--port", "0x10"],
    ["--port", "-1"],
    ["--port", "８０"],  # full-width digits: cyclopts' reading is its own business
    ["--workers", "two"],
    ["--host", "--port", "1"],
    ["--public-url", ""],
    ["--port", "1", "--port", "2"],
    ["--access-log", "--no-access-log"],
    ["--access-log=true"],
    ["--verbose"],
    ["extra"],
    ["--", "--port", "1"],
]


def _cyclopts_binds(tokens: list[str]) -> dict[str, Any]:
    app = build_app(AdminContext())
    _command, bound, *_ = app.parse_args(["serve", *tokens], exit_on_error=False, print_error=False)
    return dict(bound.arguments)


@pytest.mark.parametrize("tokens", TAKEN, ids=" ".join)
def test_taken_spellings_bind_what_cyclopts_binds(tokens: list[str]) -> None:
    fast = parse(tokens)
    assert fast is not None
    assert fast == _cyclopts_binds(tokens)


@pytest.mark.parametrize("tokens", DECLINED, ids=" ".join)
def test_other_spellings_are_declined(tokens: list[str]) -> None:
    assert parse(tokens) is None
