"""`link-cli demo` as a person or a script runs it: a subprocess on a clean environment
(what `scripts/demo` does), and the interactive menu + approval prompt under tmux."""

import json
import re
import subprocess
import time

import pytest
from demo_helpers import CARD_NUMBER_RUN, LINK_CLI, Tmux, clean_env

from linkpay.cli.demo_run import parse_flags


def test_noninteractive_demo_runs_both_flows_end_to_end(tmp_path):
    env = clean_env(tmp_path)
    done = subprocess.run(
        [LINK_CLI, "demo", "--yes", "--format", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["succeeded"] is True and summary["mode"] == "embedded"

    card = summary["flows"]["card"]
    assert card["succeeded"] is True and card["status"] == "succeeded"
    assert card["spend_request_id"].startswith("lsrq_")
    assert card["checkout"]["outcome"] == "succeeded"
    assert card["checkout"]["order_id"].startswith("ord_")
    assert set(card["card"]) == {"brand", "last4", "exp_month", "exp_year"}

    spt = summary["flows"]["spt"]
    assert spt["succeeded"] is True and spt["status"] == "succeeded"
    assert spt["http_status"] == 200
    assert spt["receipt"]["status"] == "success" and spt["receipt"]["reference"].startswith("pi_")
    assert spt["response"]["paid"]["reference"] == spt["receipt"]["reference"]

    # Narration went to stderr, one line per step; no card number anywhere.
    assert "[5/5] The wallet records the payment" in done.stderr
    assert not CARD_NUMBER_RUN.search(done.stdout + done.stderr)
    # The embedded wallet cleaned up after itself, and no auth file was written for the user.
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not any((tmp_path / "config").rglob("auth.json"))


@pytest.mark.parametrize(
    "flags",
    [
        ["--only-card", "--only-spt"],  # read by cli/demo_run.py
        ["--only-card=true", "--only-spt"],  # a spelling only the registry path reads
    ],
)
def test_demo_flags_exclude_each_other(tmp_path, flags):
    done = subprocess.run(
        [LINK_CLI, "demo", *flags, "--format", "json"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout) == {
        "code": "INVALID_INPUT",
        "message": "--only-card and --only-spt exclude each other",
    }


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        (["demo"], {"yes": False, "only_card": False, "only_spt": False}),
        (["demo", "--yes"], {"yes": True, "only_card": False, "only_spt": False}),
        (["demo", "--only-spt", "--yes"], {"yes": True, "only_card": False, "only_spt": True}),
        (["demo", "--yes", "--yes"], None),  # cyclopts says "specified multiple times"
        (["demo", "--no-yes"], None),
        (["demo", "--yes=true"], None),
        (["demo", "extra"], None),
        (["demo", "--help"], None),
        (["onboard"], None),
        ([], None),
    ],
)
def test_demo_fast_parse_reads_only_the_plain_spellings(rest, expected):
    assert parse_flags(rest) == expected


def test_demo_without_tty_is_noninteractive_and_honours_only_spt(tmp_path):
    """Also: a configured wallet that does not answer → an embedded one, said so."""
    from linkpay.demo.servers import free_loopback_port

    env = clean_env(tmp_path)
    env["LINK_API_BASE_URL"] = f"http://127.0.0.1:{free_loopback_port()}"
    done = subprocess.run(
        [LINK_CLI, "demo", "--only-spt", "--format", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert list(summary["flows"]) == ["spt"] and summary["flows"]["spt"]["http_status"] == 200
    assert summary["mode"] == "embedded"
    assert f"No wallet answers at {env['LINK_API_BASE_URL']}" in done.stderr


@pytest.mark.tmux
def test_interactive_demo_menu_card_flow_and_approval_prompt(tmp_path):
    env = clean_env(tmp_path)
    env["TERM"] = "xterm-256color"
    script = tmp_path / "run.sh"
    script.write_text(f'#!/bin/sh\n"{LINK_CLI}" demo\necho "DEMO EXIT $?"\nsleep 120\n')
    script.chmod(0o755)
    tmux = Tmux([str(script)], env)
    try:
        menu = tmux.wait_for("Choose 1-3 [3]:")
        assert "1) Card: pay at a checkout page with a one-time virtual card" in menu
        assert "2) Machine payment: pay an HTTP 402 API" in menu
        tmux.send("1", "Enter")

        prompt = tmux.wait_for("approve as the test person? [y/n]")
        assert "Step 2/5: The person approves" in prompt
        assert re.search(r"http://127\.0\.0\.1:\d+/signin/\S+\?next=/approve/lsrq_\w+", prompt), (
            prompt
        )
        assert "▄" in prompt or "█" in prompt or "▀" in prompt  # the QR code
        tmux.send("y", "Enter")

        screen = tmux.wait_for("DEMO EXIT")
        assert "DEMO EXIT 0" in screen
        assert "The person approved lsrq_" in screen
        assert re.search(r"Visa •••• \d{4}  exp \d\d/\d\d", screen)
        assert "Checkout page: Thank you, your order is confirmed." in screen
        assert re.search(r"Spend request lsrq_\w+ is succeeded\.", screen)
        assert "Machine payment" not in screen.split("Choose 1-3")[1]  # only the card flow ran
        assert not CARD_NUMBER_RUN.search(screen)
    finally:
        tmux.close()


def test_demo_on_a_configured_wallet_waits_for_the_persons_approval(tmp_path, wallet, person):
    """With LINK_API_BASE_URL answering and the demo merchant registered there, the demo
    uses that wallet and the agent's own login, and waits for the person (who approves
    here through the same service call the approval page makes)."""
    from linkpay.demo.servers import free_loopback_port
    from linkpay.wallet.spend.service import list_for_user

    port = free_loopback_port()
    merchant_url = f"http://127.0.0.1:{port}"
    _, api_key, network_id = wallet.create_merchant("Linkpay Demo Shop", url=merchant_url)
    env = clean_env(tmp_path)
    env.update(
        LINK_API_BASE_URL=wallet.base_url,
        LINK_AUTH_BASE_URL=wallet.base_url,
        LINK_ACCESS_TOKEN=wallet.agent_login(person).access_token,
        LINKPAY_MERCHANT_API_KEY=api_key,
        LINKPAY_MERCHANT_NETWORK_ID=network_id,
        LINKPAY_MERCHANT_PUBLIC_URL=merchant_url,
    )
    process = subprocess.Popen(
        [LINK_CLI, "demo", "--yes", "--format", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    approved: set[str] = set()
    try:
        while process.poll() is None and len(approved) < 2:
            with wallet.session() as session:
                pending = [
                    row.id
                    for row in list_for_user(session, person)
                    if row.status == "pending_approval" and row.id not in approved
                ]
            for spend_request_id in pending:
                wallet.approve(spend_request_id, person)
                approved.add(spend_request_id)
            time.sleep(0.05)  # the person's reaction time; the demo long-polls meanwhile
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out + err
    summary = json.loads(out)
    assert summary["mode"] == "configured" and summary["wallet_url"] == wallet.base_url
    assert summary["merchant_url"] == merchant_url
    assert {flow["spend_request_id"] for flow in summary["flows"].values()} == approved
    assert summary["flows"]["card"]["status"] == "succeeded"
    assert summary["flows"]["spt"]["receipt"]["status"] == "success"
    assert "Waiting for the person to approve" in err


@pytest.mark.tmux
def test_demo_yes_on_a_terminal_explains_each_step_without_asking(tmp_path):
    """What a person sees running `scripts/demo` (`link-cli demo --yes` on a TTY)."""
    env = clean_env(tmp_path)
    env["TERM"] = "xterm-256color"
    script = tmp_path / "run.sh"
    script.write_text(f'#!/bin/sh\n"{LINK_CLI}" demo --yes\necho "DEMO EXIT $?"\nsleep 120\n')
    script.chmod(0o755)
    tmux = Tmux([str(script)], env)
    try:
        screen = tmux.wait_for("DEMO EXIT", timeout=90)
        assert "DEMO EXIT 0" in screen, screen
        assert "Choose 1-3" not in screen and "[y/n]" not in screen, screen
        assert "Step 2/5: The person approves" in screen, screen
        assert "Step 5/5: The agent pays (`link-cli mpp pay --spend-request-id`)" in screen, screen
        assert "Done: every step succeeded." in screen, screen
        assert re.search(r"flows\.card\.status\s+succeeded", screen), screen
        assert re.search(r"flows\.spt\.http_status\s+200", screen), screen
        assert not CARD_NUMBER_RUN.search(screen), screen
    finally:
        tmux.close()


def test_a_failed_flow_exits_1_with_the_summary(tmp_path):
    """A merchant with a wrong key at its processor: the checkout says the payment could
    not be processed, the demo reports DEMO_FAILED (exit 1) and keeps the summary."""
    from linkpay.demo.servers import free_loopback_port
    from linkpay.wallet.embedded import start_embedded_wallet

    with start_embedded_wallet() as wallet:
        person = wallet.create_user("person@example.com", "Test Person")
        wallet.add_test_card(person)
        merchant_url = f"http://127.0.0.1:{free_loopback_port()}"
        _, _, network_id = wallet.create_merchant("Linkpay Demo Shop", url=merchant_url)
        env = clean_env(tmp_path)
        env.update(
            LINK_API_BASE_URL=wallet.base_url,
            LINK_AUTH_BASE_URL=wallet.base_url,
            LINK_ACCESS_TOKEN=wallet.agent_login(person).access_token,
            LINKPAY_MERCHANT_API_KEY="sk_test_not_this_merchants_key",
            LINKPAY_MERCHANT_NETWORK_ID=network_id,
            LINKPAY_MERCHANT_PUBLIC_URL=merchant_url,
        )
        process = subprocess.Popen(
            [LINK_CLI, "demo", "--yes", "--only-card", "--format", "json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            approved = False
            while process.poll() is None and not approved:
                with wallet.http(env["LINK_ACCESS_TOKEN"]) as agent:
                    pending = [
                        item["id"]
                        for item in agent.get("/spend_requests").json()["data"]
                        if item["status"] == "pending_approval"
                    ]
                for spend_request_id in pending:
                    wallet.approve(spend_request_id, person)
                    approved = True
                time.sleep(0.05)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 1, out + err
    error = json.loads(out)
    assert error["code"] == "DEMO_FAILED"
    assert error["message"] == "The demo's card flow did not succeed."
    card = error["summary"]["flows"]["card"]
    assert card["checkout"]["decline_code"] == "processing_error"
    assert card["error"]["code"] == "CHECKOUT_DECLINED"
    assert "Traceback" not in out + err
