"""link-cli against the real wallet (SQLite and PostgreSQL): device login, the card
flow, output files, errors from the API, and keeping card numbers out of output."""

from __future__ import annotations

import json
import os
import shlex
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CONTEXT, create_args, point_at

FORMATS = ["toon", "json", "yaml", "md", "jsonl"]


def _create(cli: Any, *extra: str, amount: str = "1500") -> dict[str, Any]:
    outcome = cli(*create_args(*extra, amount=amount), "--format", "json")
    assert outcome.code == 0, outcome
    return outcome.json()


def test_device_login_through_the_cli(
    wallet: Any, person: str, cli: Any, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(wallet, monkeypatch, cli_env)
    started = cli("auth", "login", "--client-name", "pytest-agent", "--format", "json")
    assert started.code == 0, started
    code = started.json()
    assert code["phrase"] in code["verification_url_complete"]
    # The follow-up is upstream's: `auth status --interval 5 --max-attempts 60`, which
    # finishes this pending login (no new phrase).
    follow_up = shlex.split(code["_next"]["command"])
    assert follow_up == ["link-cli", "auth", "status", "--interval", "5", "--max-attempts", "60"]
    waiting = cli("auth", "status", "--format", "json").json()
    assert waiting["authenticated"] is False and waiting["pending"] is True
    assert waiting["phrase"] == code["phrase"]

    wallet.approve_device(code["phrase"], person)
    polled = cli("auth", "status", "--interval", "1", "--max-attempts", "60", "--format", "json")
    assert polled.code == 0, polled
    last = polled.json()
    assert last["authenticated"] is True and last["token_type"] == "Bearer"
    assert last["connection"].startswith("pytest-agent on ")
    assert last["access_token"].endswith("...") and len(last["access_token"]) == 23
    assert last["credentials_path"] == cli_env["LINK_AUTH_FILE"]

    auth_file = Path(cli_env["LINK_AUTH_FILE"])
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
    saved = json.loads(auth_file.read_text())
    assert saved["access_token"] not in polled.stdout  # tokens never printed

    status = cli("auth", "status", "--format", "json").json()
    assert status["authenticated"] is True and "payment_methods.agentic" in status["scope"]
    again = cli("auth", "login", "--format", "json").json()
    assert again["authenticated"] is True and "auth upgrade" in again["message"]

    out = cli("auth", "logout", "--format", "json").json()
    assert out == {"authenticated": False, "revoked": True, "message": "Logged out."}
    assert not auth_file.exists()
    with wallet.http(saved["access_token"]) as client:
        assert client.get("/userinfo").status_code == 401
    assert cli("auth", "status", "--format", "json").json()["authenticated"] is False


def test_denied_login_exits_1(
    wallet: Any, person: str, cli: Any, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(wallet, monkeypatch, cli_env)
    code = cli("auth", "login", "--format", "json").json()
    wallet.deny_device(code["phrase"], person)
    denied = cli("auth", "login", "--interval", "1", "--format", "json")
    assert denied.code == 1
    error = denied.json()  # stdout holds only the error; the phrase went to stderr
    assert error["code"] == "access_denied"
    assert json.loads(denied.stderr)["phrase"] == code["phrase"]
    assert not Path(cli_env["LINK_AUTH_FILE"]).exists()


def test_card_flow_create_approve_poll_retrieve(
    wallet: Any, logged_in: str, cli: Any, tmp_path: Path
) -> None:
    created = _create(cli, "--total", "type:total,amount:1500", "--metadata", "order:42")
    assert created["status"] == "pending_approval" or created["status"] == "created"
    assert created["id"].startswith("lsrq_")
    assert "card" not in created
    assert created["_next"]["command"].startswith("link-cli spend-request")
    spend_id = created["id"]
    if created["status"] == "created":
        approval = cli("spend-request", "request-approval", spend_id, "--format", "json").json()
        assert approval["approval_link"].endswith(spend_id)

    wallet.approve(spend_id, logged_in)
    polled = cli("spend-request", "retrieve", spend_id, "--interval", "1", "--format", "json")
    assert polled.code == 0, polled
    approved = polled.json()
    assert approved["status"] == "approved" and "APPROVED" in approved["instruction"]
    assert "card" not in approved and approved["card_last4"]
    assert "--include card" in approved["_next"]["command"]

    with_card = cli(
        "spend-request", "retrieve", spend_id, "--include", "card", "--format", "json"
    ).json()
    number = with_card["card"]["number"]
    assert number.endswith(approved["card_last4"]) and len(number) >= 15

    for fmt in FORMATS:  # no card number unless asked, in every format
        shown = cli("spend-request", "retrieve", spend_id, "--format", fmt)
        assert shown.code == 0 and number not in shown.stdout
        listed = cli("spend-request", "list", "--include-history", "--format", fmt)
        assert listed.code == 0 and spend_id in listed.stdout and number not in listed.stdout

    target = tmp_path / f"card-{spend_id}.json"
    to_file = cli(
        "spend-request", "retrieve", spend_id, "--output-file", str(target), "--format", "json"
    )
    assert to_file.code == 0, to_file
    shown = to_file.json()
    assert number not in to_file.stdout
    assert shown["card"] == {
        "brand": with_card["card"]["brand"],
        "last4": number[-4:],
        "exp_month": with_card["card"]["exp_month"],
        "exp_year": with_card["card"]["exp_year"],
        "output_file": str(target.resolve()),
    }
    assert shown["card_output_file"] == str(target.resolve())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = json.loads(target.read_text())
    assert written["card"]["number"] == number
    assert written["spend_request_id"] == spend_id and written["merchant_name"] == "Mug Shop"
    assert {"merchant_url", "context", "created_at"} <= set(written)

    exists = cli(
        "spend-request", "retrieve", spend_id, "--output-file", str(target), "--format", "json"
    )
    assert exists.code == 1 and exists.json()["code"] == "OUTPUT_FILE_EXISTS"
    target.write_text("stale")
    forced = cli(
        "spend-request",
        "retrieve",
        spend_id,
        "--output-file",
        str(target),
        "--force",
        "--format",
        "json",
    )
    assert forced.code == 0 and json.loads(target.read_text())["card"]["number"] == number


def test_unknown_id_is_not_found(logged_in: str, cli: Any) -> None:
    outcome = cli("spend-request", "retrieve", "lsrq_doesnotexist", "--format", "json")
    assert outcome.code == 1 and outcome.json()["code"] == "NOT_FOUND"
    assert (
        cli("spend-request", "cancel", "lsrq_nope", "--format", "json").json()["code"]
        == "NOT_FOUND"
    )


def test_duplicate_names_the_existing_request(logged_in: str, cli: Any) -> None:
    first = _create(cli, "--request-approval", amount="1700")
    second = cli(*create_args("--request-approval", amount="1700"), "--format", "json")
    assert second.code == 1
    error = second.json()
    assert error["code"] == "spend_request_rate_limited"
    assert first["id"] in error["message"] and error["existing_spend_request_id"] == first["id"]
    assert error["_next"]["command"].startswith(f"link-cli spend-request retrieve {first['id']}")


def test_denied_is_never_shown_as_approved(wallet: Any, logged_in: str, cli: Any) -> None:
    created = _create(cli, "--request-approval", amount="1800")
    wallet.deny(created["id"], logged_in)
    for fmt in FORMATS:
        outcome = cli(
            "spend-request", "retrieve", created["id"], "--interval", "1", "--format", fmt
        )
        assert outcome.code == 0, outcome
        assert "DENIED" in outcome.stdout and "APPROVED" not in outcome.stdout
        if fmt == "jsonl":
            assert [line["status"] for line in outcome.lines()] == ["denied"]
        if fmt == "json":
            assert outcome.json()["status"] == "denied"


def test_polling_timeout(logged_in: str, cli: Any) -> None:
    created = _create(cli, "--request-approval", amount="1900")
    timed_out = cli(
        "spend-request",
        "retrieve",
        created["id"],
        "--interval",
        "0.2",
        "--timeout",
        "0.5",
        "--format",
        "json",
    )
    assert timed_out.code == 1
    error = timed_out.json()
    assert error["code"] == "POLLING_TIMEOUT" and error["status"] == "pending_approval"
    assert error["_next"]["command"].startswith(f"link-cli spend-request retrieve {created['id']}")
    by_attempts = cli(
        "spend-request",
        "retrieve",
        created["id"],
        "--interval",
        "0.2",
        "--max-attempts",
        "2",
        "--format",
        "json",
    )
    assert by_attempts.code == 1 and by_attempts.json()["code"] == "POLLING_TIMEOUT"


def test_update_cancel_and_request_approval(logged_in: str, cli: Any) -> None:
    created = _create(cli, amount="2000")
    spend_id = created["id"]
    updated = cli(
        "spend-request",
        "update",
        spend_id,
        "--amount",
        "2100",
        "--line-item",
        "name:Blue mug,quantity:1,unit_amount:2100",
        "--format",
        "json",
    )
    if created["status"] == "created":
        assert updated.code == 0, updated
        assert updated.json()["amount"] == 2100
        link = cli("spend-request", "request-approval", spend_id, "--format", "json").json()
        assert link["id"] == spend_id and link["approval_link"].endswith(spend_id)
    canceled = cli("spend-request", "cancel", spend_id, "--format", "json")
    assert canceled.code == 0, canceled
    assert canceled.json()["status"] == "canceled" and "CANCELED" in canceled.json()["instruction"]


def test_shared_payment_token_request(wallet: Any, logged_in: str, cli: Any) -> None:
    _merchant, _key, network_id = wallet.create_merchant("Robot Shop")
    outcome = cli(
        "spend-request",
        "create",
        "--credential-type",
        "shared_payment_token",
        "--network-id",
        network_id,
        "--amount",
        "700",
        "--context",
        CONTEXT,
        "--request-approval",
        "--format",
        "json",
    )
    assert outcome.code == 0, outcome
    spend_id = outcome.json()["id"]
    wallet.approve(spend_id, logged_in)
    got = cli(
        "spend-request",
        "retrieve",
        spend_id,
        "--include",
        "shared_payment_token",
        "--format",
        "json",
    ).json()
    assert got["status"] == "approved" and got["shared_payment_token"]["id"].startswith("spt_")


def test_account_commands(logged_in: str, cli: Any) -> None:
    methods = cli("payment-methods", "list", "--format", "json").json()
    assert methods and methods[0]["type"] == "card" and len(methods[0]["last4"]) == 4
    assert cli("user-info", "retrieve", "--format", "json").json()["email"].endswith("@example.com")
    assert cli("shipping-address", "list", "--format", "json").code == 0
    assert "data" in cli("transactions", "list", "--limit", "5", "--format", "json").json()
    reported = cli(
        "report",
        "--domain",
        "mugs.example",
        "--outcome",
        "abandoned",
        "--spend-request-id",
        _create(cli, "--no-request-approval")["id"],
        "--tag",
        "captcha",
        "--format",
        "json",
    )
    assert reported.code == 0, reported
    page = cli("payment-methods", "add", "--format", "json").json()
    assert page["url"].startswith("http://127.0.0.1")
    import httpx2

    assert httpx2.get(page["url"]).status_code in (200, 302, 303, 307)  # a real wallet page


def test_env_tokens_and_refresh(
    wallet: Any, person: str, cli: Any, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkpay.client.tokens import Tokens, TokenStore

    point_at(wallet, monkeypatch, cli_env)
    token = wallet.agent_login(person)
    env_only = cli(
        "user-info", "retrieve", "--format", "json", LINK_ACCESS_TOKEN=token.access_token
    )
    assert env_only.code == 0 and not Path(cli_env["LINK_AUTH_FILE"]).exists()
    monkeypatch.delenv("LINK_ACCESS_TOKEN")

    stale = Tokens.from_token_response(token)
    stale.expires_at = time.time() - 60  # expired: the CLI must refresh first
    store = TokenStore(Path(cli_env["LINK_AUTH_FILE"]))
    store.save(stale)
    refreshed = cli("user-info", "retrieve", "--format", "json")
    assert refreshed.code == 0, refreshed
    saved = store.load()
    assert saved is not None and saved.refresh_token != token.refresh_token
    assert saved.expires_at and saved.expires_at > time.time()

    stale.access_token = "revoked-or-unknown"
    stale.expires_at = time.time() + 3600
    stale.refresh_token = saved.refresh_token
    store.save(stale)
    on_401 = cli("user-info", "retrieve", "--format", "json")  # 401 → refresh once → retry
    assert on_401.code == 0, on_401

    store.save(stale)
    no_refresh = cli("user-info", "retrieve", "--format", "json", LINK_NO_REFRESH="1")
    assert no_refresh.code == 1 and no_refresh.json()["code"] == "NOT_AUTHENTICATED"


def test_verbose_logs_traffic_without_secrets(
    logged_in: str, cli: Any, cli_env: dict[str, str]
) -> None:
    outcome = cli("payment-methods", "list", "--verbose", "--format", "json")
    assert outcome.code == 0
    assert "GET " in outcome.stderr and "/payment-details -> 200" in outcome.stderr
    token = json.loads(Path(cli_env["LINK_AUTH_FILE"]).read_text())["access_token"]
    assert token not in outcome.stderr and "Bearer" not in outcome.stderr
    assert os.environ["LINK_AUTH_FILE"] == cli_env["LINK_AUTH_FILE"]


def test_no_payment_method_and_unknown_method_name_the_way_out(
    wallet: Any, cli: Any, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkpay.client.tokens import Tokens, TokenStore

    point_at(wallet, monkeypatch, cli_env)
    cardless = wallet.create_user(f"cardless-{time.monotonic_ns()}@example.com")
    token = wallet.agent_login(cardless)
    TokenStore(Path(cli_env["LINK_AUTH_FILE"])).save(Tokens.from_token_response(token))
    outcome = cli(*create_args(), "--format", "json")
    assert outcome.code == 1
    error = outcome.json()
    assert error["code"] == "NO_PAYMENT_METHOD"
    assert error["_next"]["command"] == "link-cli payment-methods add"
    wallet.add_test_card(cardless)
    unknown = cli(*create_args("--payment-method-id", "csmrpd_nope"), "--format", "json").json()
    assert unknown["code"] == "invalid_request"
    assert unknown["message"].startswith("--payment-method-id: ")
