"""run_demo in process with a scripted person at the terminal: a denial is reported as
a denial (never as approved) and the flow stops before any card is issued."""

import io

import pytest

from linkpay.demo.terminal import TerminalNarrator
from linkpay.demo.walkthrough import run_demo


@pytest.fixture
def no_configured_wallet(monkeypatch):
    monkeypatch.delenv("LINK_API_BASE_URL", raising=False)
    monkeypatch.delenv("LINK_AUTH_BASE_URL", raising=False)


def test_person_denies_at_the_prompt(no_configured_wallet):
    out = io.StringIO()
    narrator = TerminalNarrator(out=out, inp=io.StringIO("1\nn\n"))
    summary = run_demo(narrator)
    assert summary["succeeded"] is False and list(summary["flows"]) == ["card"]
    card = summary["flows"]["card"]
    assert card["error"] == {
        "code": "NOT_APPROVED",
        "message": "The spend request ended denied, not approved.",
    }
    assert "card" not in card and "checkout" not in card
    text = out.getvalue()
    assert "approve as the test person? [y/n]" in text
    assert "✗ NOT_APPROVED: The spend request ended denied, not approved." in text
    assert "The person approved" not in text and "Step 3/5" not in text


def test_only_flag_skips_the_menu(no_configured_wallet):
    out = io.StringIO()
    narrator = TerminalNarrator(out=out, inp=io.StringIO("y\n"))
    summary = run_demo(narrator, only="spt")
    assert summary["succeeded"] is True and list(summary["flows"]) == ["spt"]
    assert summary["flows"]["spt"]["receipt"]["status"] == "success"
    assert "Choose 1-3" not in out.getvalue()
