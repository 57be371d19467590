"""`link-wallet` admin commands, in process (`main(argv)`) against the test wallet's
database, plus the installed entry point and `serve` as real subprocesses.

The convention is `link-cli`'s: results and `{code, message}` errors on stdout in the
chosen `--format` (`--json` is short for `--format json`), exit 1 on any failure."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from linkpay import __version__
from linkpay.serving import free_loopback_port
from linkpay.wallet.admin import main
from linkpay.wallet.store.migrations import head_revision

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))


@pytest.fixture
def run(wallet: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`run(*argv) -> (exit_code, stdout, stderr)` on the wallet's database and keys."""
    monkeypatch.setenv("LINKPAY_DATA_DIR", str(wallet.settings.data_dir))
    monkeypatch.setenv("LINKPAY_DATABASE_URL", wallet.settings.database_url)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def email() -> str:
    return f"cli-{secrets.token_hex(4)}@example.com"


def test_migrate_reports_head(run: Any) -> None:
    code, out, _ = run("--json", "migrate")
    assert code == 0
    assert json.loads(out)["revision"] == head_revision()


def test_user_create_and_duplicate(run: Any, wallet: Any) -> None:
    address = email()
    code, out, err = run(
        "user", "create", "--email", address.upper(), "--name", "Grace Hopper", "--json"
    )
    assert code == 0, err
    created = json.loads(out)
    assert created["id"].startswith("usr_") and created["email"] == address
    code, out, err = run("user", "create", "--email", address, "--format", "json")
    assert code == 1 and err == ""
    assert json.loads(out) == {
        "code": "conflict",
        "message": f"A user with email {address} already exists",
    }
    code, out, err = run("user", "create", "--email", "not-an-email")  # toon by default
    assert code == 1 and out.startswith("code: ") and "email" in out and "Traceback" not in err


def test_card_add_test_card(run: Any, wallet: Any) -> None:
    address = email()
    user_id = wallet.create_user(address)
    code, out, err = run("card", "add", "--test", "--email", address)
    assert code == 0, err
    assert "4242" in out and "4242424242424242" not in out
    with wallet.http(wallet.agent_login(user_id).access_token) as client:
        methods = client.get("/payment-details").json()["payment_details"]
    assert [m["card_details"]["last4"] for m in methods] == ["4242"]
    assert methods[0]["is_default"] is True
    code, out, _ = run("card", "add", "--email", address, "--json")
    assert code == 1 and json.loads(out)["code"] == "INVALID_INPUT" and "--test" in out
    code, out, _ = run("card", "add", "--test", "--json")  # many users, no owner: say which
    assert code == 1 and json.loads(out)["code"] == "INVALID_INPUT" and "--email" in out
    code, out, _ = run("card", "add", "--test", "--email", "nobody@example.com", "--json")
    assert code == 1 and json.loads(out)["code"] == "NOT_FOUND"


def test_device_approve_and_deny(run: Any, wallet: Any) -> None:
    address = email()
    wallet.create_user(address)
    with wallet.http() as client:
        code = client.post(
            "/device/code", data={"client_id": "link-cli", "connection_label": "Agent on box"}
        ).json()
        exit_code, out, err = run(
            "device", "approve", code["user_code"].replace("-", " "), "--email", address, "--json"
        )
        assert exit_code == 0, err
        assert json.loads(out)["status"] == "approved"
        assert json.loads(out)["connection"] == "Agent on box"
        token = client.post(
            "/device/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": code["device_code"],
                "client_id": "link-cli",
            },
        ).json()
        assert token["access_token"].startswith("lk_at_")
        second = client.post("/device/code", data={"client_id": "link-cli"}).json()
        exit_code, _, err = run("device", "deny", second["user_code"], "--email", address)
        assert exit_code == 0, err
        denied = client.post(
            "/device/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": second["device_code"],
                "client_id": "link-cli",
            },
        ).json()
        assert denied["error"] == "access_denied"
    exit_code, out, _ = run("device", "approve", "no such phrase", "--email", address, "--json")
    assert exit_code == 1 and "phrase" in json.loads(out)["message"]


def _pending_spend_request(wallet: Any, user_id: str) -> str:
    token = wallet.agent_login(user_id)
    with wallet.http(token.access_token) as client:
        created = client.post(
            "/spend_requests",
            json={
                "amount": 2500,
                "merchant_name": "Tea Shop",
                "merchant_url": "https://tea.example",
                "context": "Ordering the green tea the person asked for, two tins, standard post. "
                "They confirmed the price in the chat a minute ago.",
                "request_approval": True,
            },
        )
        assert created.status_code == 200, created.text
        return str(created.json()["id"])


def test_approve_and_deny_spend_requests(run: Any, wallet: Any, person: str) -> None:
    first = _pending_spend_request(wallet, person)
    code, out, err = run("approve", first, "--json")
    assert code == 0, err
    assert json.loads(out) == {"id": first, "status": "approved", "amount": 2500, "currency": "usd"}
    second = _pending_spend_request(wallet, person)
    code, out, err = run("deny", second, "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "denied"
    code, out, _ = run("approve", "lsrq_doesnotexist", "--format", "yaml")
    assert code == 1
    assert out == "code: NOT_FOUND\nmessage: no spend request lsrq_doesnotexist\n"


def test_merchant_create_prints_key_once(run: Any, wallet: Any) -> None:
    code, out, err = run(
        "--json", "merchant", "create", "--name", "Tea Shop", "--url", "https://tea.example"
    )
    assert code == 0, err
    merchant = json.loads(out)
    assert merchant["api_key"].startswith("sk_test_")
    assert merchant["network_id"].startswith("profile_")
    assert merchant["id"].startswith("mer_")


def test_usage_errors_are_code_and_message_exit_1(run: Any) -> None:
    code, out, err = run("frobnicate", "--json")
    assert code == 1 and err == ""
    error = json.loads(out)
    assert set(error) == {"code", "message"} and error["code"] == "INVALID_INPUT"
    assert "frobnicate" in error["message"]
    code, out, _ = run("user", "create", "--format=json")
    assert code == 1 and json.loads(out)["code"] == "INVALID_INPUT" and "--email" in out
    code, out, _ = run("--format", "xml", "migrate")
    assert code == 1 and out.startswith("code: INVALID_INPUT") and "xml" in out
    code, out, _ = run("migrate", "--format")
    assert code == 1 and "--format needs a value" in out


def test_formats_and_json_alias(run: Any) -> None:
    code, as_json, _ = run("migrate", "--format", "json")
    assert code == 0
    assert run("migrate", "--json")[1] == as_json  # --json is short for --format json
    code, as_jsonl, _ = run("--format", "jsonl", "migrate")
    assert code == 0 and json.loads(as_jsonl) == json.loads(as_json)
    code, as_toon, _ = run("migrate")
    assert code == 0 and f"revision: {head_revision()}" in as_toon
    code, as_md, _ = run("migrate", "--format", "md")
    assert code == 0 and f"| revision | {head_revision()} |" in as_md


def test_help_and_version_exit_0(run: Any) -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("serve", "migrate", "user", "card", "approve", "deny", "device", "merchant"):
        assert command in out
    assert "--format" in out
    code, out, _ = run("--version")
    assert (code, out) == (0, f"link-wallet {__version__}\n")


def test_entry_point_subprocess_has_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "LINKPAY_DATA_DIR": str(tmp_path)}
    url = "postgresql://nobody:hunter2@127.0.0.1:1/none"
    done = subprocess.run(
        [LINK_WALLET, "--database-url", url, "migrate", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["code"] == "DATABASE_UNAVAILABLE"
    assert error["message"].startswith("cannot use the database")
    assert "hunter2" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.only_database("sqlite")  # serve once; the database layer is covered elsewhere
def test_serve_migrates_ensures_owner_and_answers(tmp_path: Path, database_url: str) -> None:
    port = free_loopback_port()
    env = {
        **os.environ,
        "LINKPAY_DATA_DIR": str(tmp_path),
        "LINKPAY_OWNER_EMAIL": "me@home.example",
    }
    env.pop("LINKPAY_DATABASE_URL", None)
    proc = subprocess.Popen(
        [LINK_WALLET, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx2.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                break
            except httpx2.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200
        assert "/device/code" in answer.json()["paths"]
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop, exit 0, no traceback
        output, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, output
        assert "Traceback" not in output and "INTERRUPTED" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
    assert (tmp_path / "wallet.db").exists()
    code = main(
        ["--database-url", f"sqlite:///{tmp_path / 'wallet.db'}", "device", "approve", "x y z"]
    )  # owner exists: resolved without --email, phrase is wrong
    assert code == 1
