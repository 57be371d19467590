"""`link-wallet issuer …` on the live wallet's database, and the crash test: the process
approving a request is killed between the issuer's card creation and our commit; after
a restart, `issuer reconcile` closes the orphan and a new approval leaves exactly one
open card, the one our records hold.

The approval that gets killed is a real `link-wallet` subprocess: that process boundary
is what the crash test is about. Every other command runs in process through
`linkpay.wallet.admin.main` (the code behind the entry point) with the same `LINKPAY_*`
environment: as subprocesses they cost one to several seconds of start-up each and
tested nothing more (tests/wallet/test_admin_cli.py covers the installed entry point)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from issuers_helpers import STRIPE_KEY, Live, card_body, database_text, spend_status

from linkpay.wallet.admin import main

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))
# The crash case starts link-wallet once (a second or more, much more on a busy
# machine) and waits for it to reach the issuer: more than the suite's default 120 s.
pytestmark = pytest.mark.timeout(300)

Run = Callable[..., tuple[int, Any]]


def _env(wallet: Any) -> dict[str, str]:
    settings = wallet.settings
    return {
        "LINKPAY_DATA_DIR": str(settings.data_dir),
        "LINKPAY_DATABASE_URL": settings.database_url,
        "LINKPAY_CARD_KEY": base64.b64encode(settings.card_key).decode(),
        "LINKPAY_PEPPER": base64.b64encode(settings.pepper).decode(),
        "LINKPAY_STRIPE_API_BASE": settings.stripe_api_base,
        "LINKPAY_LITHIC_BASE_URL": settings.lithic_base_url,
    }


@pytest.fixture
def run(live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`run(*argv) -> (exit code, parsed JSON output)`: `link-wallet --format json …`
    in process, with the environment a subprocess on the live wallet would get."""
    for name, value in _env(live.wallet).items():
        monkeypatch.setenv(name, value)

    def invoke(*argv: str) -> tuple[int, Any]:
        capsys.readouterr()
        code = main(["--format", "json", *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, json.loads(out)

    return invoke


def _open_cards_for(live: Live, spend_request_id: str) -> list[str]:
    if live.provider == "stripe":
        return [
            c["id"]
            for c in live.fake.objects.values()
            if c.get("object") == "issuing.card"
            and c["status"] == "active"
            and c["metadata"].get("spend_request_id") == spend_request_id
        ]
    return [
        t
        for t, c in live.fake.cards.items()
        if c["state"] == "OPEN" and c["tags"].get("spend_request_id") == spend_request_id
    ]


def test_connect_status_disconnect(live: Live, run: Run) -> None:
    code, error = run("issuer", "connect", "stripe", "--secret-key", "pk_test_x")
    assert code == 1 and error["code"] == "INVALID_INPUT" and "sk_" in error["message"]
    code, error = run("issuer", "connect", "stripe", "--secret-key", "sk_test_wrong1234567")
    assert code == 1 and error["code"] == "ISSUER_ERROR"
    code, status = run(
        "issuer",
        "connect",
        "stripe",
        "--secret-key",
        STRIPE_KEY,
        "--webhook-secret",
        "whsec_cli" + "x" * 20,
    )
    assert code == 0, status
    assert status["provider"] == "stripe" and status["livemode"] is False
    assert status["key_hint"] == f"sk_test_…{STRIPE_KEY[-4:]}"
    assert status["webhook_url"].endswith("/webhooks/stripe")
    assert STRIPE_KEY not in json.dumps(status)
    assert STRIPE_KEY not in database_text(live.wallet)  # sealed with the card vault
    code, disconnected = run("issuer", "disconnect")
    assert code == 0, disconnected
    code, status = run("issuer", "status")
    assert code == 0 and status["provider"] == "test"


def test_crash_between_issuer_call_and_commit_then_reconcile(live: Live, run: Run) -> None:
    request_id = live.agent.post("/spend_requests", json=card_body()).json()["id"]
    created, release = threading.Event(), threading.Event()

    def hold(_card: dict[str, Any]) -> None:
        created.set()
        release.wait(30)

    live.fake.on_card_created = hold
    approving = subprocess.Popen(
        [LINK_WALLET, "approve", request_id],
        env={**os.environ, **_env(live.wallet)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert created.wait(60), "the approval never reached the issuer"
        approving.kill()  # the card exists at the issuer; our transaction never commits
        approving.wait(10)
    finally:
        live.fake.on_card_created = None
        release.set()
    assert spend_status(live.wallet, request_id) == "pending_approval"
    orphans = _open_cards_for(live, request_id)
    assert len(orphans) == 1

    code, report = run("issuer", "reconcile", "--grace-seconds", "0")
    assert code == 0, report
    assert [c["id"] for c in report["closed"]] == orphans
    assert report["closed"][0]["why"].startswith("orphan")
    assert _open_cards_for(live, request_id) == []

    code, approved = run("approve", request_id)
    assert code == 0 and approved["status"] == "approved", approved
    open_now = _open_cards_for(live, request_id)
    assert open_now == [live.card_ref(request_id)]  # exactly one card, ours
    code, again = run("issuer", "reconcile", "--grace-seconds", "0")
    assert code == 0 and again["closed"] == []
