"""Golden outputs of every format for one spend request and for a list, through the real
command handlers and renderers (the wallet's answers are fixed JSON served by a mock
transport so ids and times are stable). Merchant text carries ANSI escapes on purpose:
the goldens show it sanitized. Regenerate with LINK_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx2
import pytest

GOLDEN = Path(__file__).parent / "golden"
FORMATS = ["toon", "json", "yaml", "md", "jsonl"]

SPEND_REQUEST = {
    "id": "lsrq_golden0001",
    "object": "spend_request",
    "status": "pending_approval",
    "merchant_name": "Mug \x1b[31mShop\x1b[0m",
    "merchant_url": "https://mugs.example",
    "context": "Buying one blue ceramic coffee mug for the person's kitchen, as they asked in "
    "chat today; nothing else is in the basket.",
    "amount": 1500,
    "currency": "usd",
    "line_items": [{"name": "Blue mug", "quantity": 1, "unit_amount": 1500}],
    "totals": [{"type": "total", "amount": 1500, "display_text": "Total"}],
    "payment_method": "csmrpd_golden",
    "payment_details": "csmrpd_golden",
    "credential_type": "card",
    "approval_url": "http://127.0.0.1:8765/approve/lsrq_golden0001",
    "metadata": {"order": "42"},
    "expires_at": 1795615800,  # unix seconds (2026-11-25T14:10:00Z), as Link clients declare
    "created_at": "2026-11-25T14:00:00Z",
    "updated_at": "2026-11-25T14:00:00Z",
    "livemode": False,
    "test": True,
}
SECOND = {
    **SPEND_REQUEST,
    "id": "lsrq_golden0002",
    "status": "approved",
    "amount": 700,
    "merchant_name": "Tea, Inc.",
    "card_brand": "visa",
    "card_last4": "4242",
}


CARD = {
    "id": "card_golden",
    "brand": "visa",
    "number": "4000002760003184",
    "cvc": "123",
    "exp_month": 12,
    "exp_year": 2030,
    "valid_until": "2026-11-26T02:00:00Z",
}
PAYMENT_DETAILS = {
    "payment_details": [
        {
            "id": "csmrpd_golden",
            "type": "card",
            "is_default": True,
            "nickname": "Everyday",
            "card_details": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        },
        {
            "id": "csmrpd_bank",
            "type": "bank_account",
            "is_default": False,
            "bank_account_details": {"last4": "6789", "bank_name": "Test Bank"},
        },
    ]
}


def _handler(request: httpx2.Request) -> httpx2.Response:
    if request.url.path == "/spend_requests":
        return httpx2.Response(200, json={"data": [SPEND_REQUEST, SECOND]})
    if request.url.path == "/payment-details":
        return httpx2.Response(200, json=PAYMENT_DETAILS)
    if request.url.path == "/spend_requests/lsrq_golden0002":
        return httpx2.Response(200, json={**SECOND, "card": CARD})
    return httpx2.Response(200, json=SPEND_REQUEST)


@pytest.fixture
def fixed_wallet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from linkpay.cli.registry import Context
    from linkpay.client import Link

    def link(self: Context) -> Link:
        if self._link is None:
            self._link = Link(
                api_base_url="http://127.0.0.1:8765",
                auth_base_url="http://127.0.0.1:8765",
                auth_file=tmp_path / "auth.json",
                access_token="t",
                transport=httpx2.MockTransport(_handler),
            )
        return self._link

    monkeypatch.setattr(Context, "link", link)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LINK_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert "\x1b" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_spend_request_golden(cli: Any, fixed_wallet: None, fmt: str) -> None:
    outcome = cli("spend-request", "retrieve", "lsrq_golden0001", "--format", fmt)
    assert outcome.code == 0, outcome
    _check(f"spend_request.{fmt}", outcome.stdout)


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_golden(cli: Any, fixed_wallet: None, fmt: str) -> None:
    outcome = cli("spend-request", "list", "--format", fmt)
    assert outcome.code == 0, outcome
    _check(f"spend_request_list.{fmt}", outcome.stdout)


def test_filter_output_golden(cli: Any, fixed_wallet: None) -> None:
    outcome = cli(
        "spend-request",
        "retrieve",
        "lsrq_golden0001",
        "--filter-output",
        "id,status,line_items.name,_next",
        "--format",
        "toon",
    )
    _check("spend_request_filtered.toon", outcome.stdout)


def test_approved_without_card_is_an_error(
    cli: Any, fixed_wallet: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(SPEND_REQUEST, "status", "approved")
    for extra in (["--include", "card"], ["--output-file", str(tmp_path / "card.json")]):
        outcome = cli("spend-request", "retrieve", "lsrq_golden0001", *extra, "--format", "json")
        assert outcome.code == 1 and outcome.json()["code"] == "INVALID_RESPONSE"
        assert "returned no card" in outcome.json()["message"]
    assert not (tmp_path / "card.json").exists()


@pytest.mark.parametrize("fmt", ["json", "toon"])
def test_payment_methods_golden(cli: Any, fixed_wallet: None, fmt: str) -> None:
    """Full objects with nested card_details (upstream's shape) plus our flat fields."""
    outcome = cli("payment-methods", "list", "--format", fmt)
    assert outcome.code == 0, outcome
    _check(f"payment_methods.{fmt}", outcome.stdout)


def test_output_file_golden(cli: Any, fixed_wallet: None, tmp_path: Path) -> None:
    """stdout names the file (`card_output_file`) and shows no number; the file holds
    the request's identity and the card, as upstream writes it."""
    target = tmp_path / "card.json"
    outcome = cli(
        "spend-request",
        "retrieve",
        "lsrq_golden0002",
        "--include",
        "card",
        "--output-file",
        str(target),
        "--format",
        "json",
    )
    assert outcome.code == 0, outcome
    # The file's path comes from pytest (".../pytest-123/..." can hold the CVC's digits),
    # so look for secrets only in what stdout says besides the path.
    shown = outcome.stdout.replace(str(target), "<FILE>")
    assert CARD["number"] not in shown and CARD["cvc"] not in shown
    _check("output_file_stdout.json", shown)
    _check("output_file_content.json", target.read_text(encoding="utf-8"))
