"""What the agent is told: requires_action's three resolutions (action_url, wait or
"create a new spend request"), POLLING_TIMEOUT marked retryable, and verification /
support URLs from API errors repeated in the message. The wallet's answers are fixed
JSON (a mock transport); everything else is the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

BASE = {
    "id": "lsrq_guide",
    "merchant_name": "Shop",
    "merchant_url": "https://shop.example",
    "context": "c" * 100,
    "amount": 100,
    "currency": "usd",
    "credential_type": "card",
    "created_at": "2026-11-25T14:00:00Z",
    "updated_at": "2026-11-25T14:00:00Z",
}


def _requires_action(resolution: str) -> dict[str, Any]:
    return {
        **BASE,
        "status": "requires_action",
        "status_details": {
            "requires_action": {
                "next_action": {
                    "type": "three_d_secure",
                    "resolution": resolution,
                    "display_message": "Confirm the payment with your bank",
                    "action_url": "https://bank.example/3ds",
                    "expires_at": 1795615800,
                }
            }
        },
    }


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    from linkpay.cli.registry import Context
    from linkpay.client import Link

    state: dict[str, Any] = {"status": 200, "body": BASE}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(state["status"], json=state["body"])

    def link(self: Context) -> Link:
        if self._link is None:
            self._link = Link(
                api_base_url="http://127.0.0.1:8765",
                auth_base_url="http://127.0.0.1:8765",
                auth_file=tmp_path / "auth.json",
                access_token="t",
                transport=httpx2.MockTransport(handler),
            )
        return self._link

    monkeypatch.setattr(Context, "link", link)
    return state


def test_requires_action_guidance(cli: Any, answers: dict[str, Any]) -> None:
    answers["body"] = _requires_action("auto_resume")
    waiting = cli("spend-request", "retrieve", "lsrq_guide", "--json").json()
    assert "https://bank.example/3ds" in waiting["instruction"]
    assert "Do not create a new spend request" in waiting["instruction"]
    assert waiting["_next"]["command"].startswith("link-cli spend-request retrieve lsrq_guide")
    assert waiting["status_details"]["requires_action"]["next_action"]["expires_at"] == 1795615800

    answers["body"] = _requires_action("create_new_spend_request")
    new = cli("spend-request", "retrieve", "lsrq_guide", "--json").json()
    assert "https://bank.example/3ds" in new["instruction"]
    assert "Create a new spend request." in new["instruction"] and "_next" not in new

    answers["body"] = _requires_action("create_new_spend_request_after_completion")
    later = cli("spend-request", "retrieve", "lsrq_guide", "--json").json()
    assert "Create a new spend request after they have completed it" in later["instruction"]


def test_polling_timeout_is_retryable(cli: Any, answers: dict[str, Any]) -> None:
    answers["body"] = {**BASE, "status": "pending_approval"}
    outcome = cli(
        "spend-request",
        "retrieve",
        "lsrq_guide",
        "--interval",
        "0.01",
        "--max-attempts",
        "2",
        "--json",
    )
    assert outcome.code == 1
    error = outcome.json()
    assert error["code"] == "POLLING_TIMEOUT" and error["retryable"] is True
    assert error["_next"]["command"].startswith("link-cli spend-request retrieve lsrq_guide")


@pytest.mark.parametrize(
    ("key", "label"), [("verification_url", "Verification URL"), ("support_url", "Support URL")]
)
def test_api_error_urls_are_surfaced(
    cli: Any, answers: dict[str, Any], key: str, label: str
) -> None:
    answers["status"] = 403
    answers["body"] = {
        "error": {
            "code": "verification_required",
            "message": "The person must verify their identity first.",
            key: "https://wallet.example/verify",
        }
    }
    outcome = cli("spend-request", "retrieve", "lsrq_guide", "--json")
    assert outcome.code == 1
    error = outcome.json()
    assert error["code"] == "verification_required"
    assert error["message"].endswith(f"{label}: https://wallet.example/verify")
    assert error[key] == "https://wallet.example/verify"
