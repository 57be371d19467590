"""`link-wallet policy …` on a real wallet's database: plain words out, loosening
refused without --confirm, tightening without, limits within the operator's maximum,
every change in the history; and agents never reach these (the shell is the person's)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from linkpay.wallet.admin import main


@pytest.fixture
def run(wallet: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("LINKPAY_DATA_DIR", str(wallet.settings.data_dir))
    monkeypatch.setenv("LINKPAY_DATABASE_URL", wallet.settings.database_url)

    def invoke(*argv: str) -> tuple[int, Any]:
        code = main([*argv, "--format", "json"])
        out, _err = capsys.readouterr()
        return code, json.loads(out)

    return invoke


def test_policy_commands(run: Any, wallet: Any, tmp_path: Path) -> None:
    email = f"policy-{secrets.token_hex(4)}@example.com"
    wallet.create_user(email)
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            [
                {"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}},
                {"id": "small", "action": "auto_approve", "when": {"amount_at_most": 1500}},
            ]
        )
    )
    code, refused = run("policy", "set-rules", str(rules), "--email", email)
    assert (code, refused["code"]) == (1, "CONFIRMATION_REQUIRED")
    assert "small" in refused["message"] and "casino" not in refused["message"]
    code, done = run("policy", "set-rules", str(rules), "--email", email, "--confirm")
    assert code == 0 and done["loosening"] == ["rule small (auto_approve) is new or changed"]

    # Dropping the auto-approve rule only tightens: no confirmation needed.
    rules.write_text(
        json.dumps([{"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}}])
    )
    code, done = run("policy", "set-rules", str(rules), "--email", email)
    assert code == 0 and done["loosening"] == []

    code, _ = run("policy", "set-limit", "per_day", "20000", "--email", email)
    assert code == 0
    code, refused = run("policy", "set-limit", "per_day", "30000", "--email", email)
    assert (code, refused["code"]) == (1, "CONFIRMATION_REQUIRED")
    code, refused = run(
        "policy", "set-limit", "per_day", "999999999", "--email", email, "--confirm"
    )
    assert (code, refused["code"]) == (1, "INVALID_INPUT")
    assert "operator's maximum" in refused["message"]

    code, shown = run("policy", "show", "--email", email)
    assert code == 0
    assert shown["rules"] == [
        {"position": 1, "id": "casino", "reads": "Purchases at any site under casino are refused"}
    ]
    assert shown["limits"]["per_day"]["reads"] == "$200 per day (rolling 24 hours)"
    code, history = run("policy", "history", "--email", email)
    assert [(h["what"], h["loosening"], h["confirmed_by"]) for h in history] == [
        ("limits", False, None),
        ("rules", False, None),
        ("rules", True, "shell"),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "x", "action": "approve"}]))
    code, refused = run("policy", "set-rules", str(bad), "--email", email, "--confirm")
    assert (code, refused["code"]) == (1, "INVALID_INPUT")
