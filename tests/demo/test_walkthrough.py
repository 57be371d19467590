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


def test_configured_wallet_without_network_id_runs_only_the_card_flow(monkeypatch, wallet, person):
    import threading

    from linkpay.demo.servers import free_loopback_port
    from linkpay.demo.terminal import QuietNarrator
    from linkpay.wallet.spend.service import list_for_user

    merchant_url = f"http://127.0.0.1:{free_loopback_port()}"
    _, api_key, _ = wallet.create_merchant("Linkpay Demo Shop", url=merchant_url)
    for name, value in {
        "LINK_API_BASE_URL": wallet.base_url,
        "LINK_AUTH_BASE_URL": wallet.base_url,
        "LINK_ACCESS_TOKEN": wallet.agent_login(person).access_token,
        "LINKPAY_MERCHANT_API_KEY": api_key,
        "LINKPAY_MERCHANT_PUBLIC_URL": merchant_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LINKPAY_MERCHANT_NETWORK_ID", raising=False)

    done = threading.Event()

    def person_approves() -> None:  # what the person does on the approval page
        while not done.is_set():
            with wallet.session() as session:
                pending = [
                    r.id for r in list_for_user(session, person) if r.status == "pending_approval"
                ]
            for spend_request_id in pending:
                wallet.approve(spend_request_id, person)
            done.wait(0.05)

    approver = threading.Thread(target=person_approves, daemon=True)
    approver.start()
    out = io.StringIO()
    try:
        summary = run_demo(QuietNarrator(out=out))
    finally:
        done.set()
        approver.join()
    assert summary["mode"] == "configured" and list(summary["flows"]) == ["card"]
    assert summary["succeeded"] is True and summary["flows"]["card"]["status"] == "succeeded"
    assert "only the card flow can run" in out.getvalue()
