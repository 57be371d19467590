"""The drop-in gaps, against the real wallet: /sources and /balances, the extended
expiry range with its operator allow-list, unix-second timestamps, execution_method,
update with profile_id/merchant_id, login after the person revoked the session, and
MCP tools taking objects for line_item / total / metadata."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CONTEXT, create_args, point_at


def _json(outcome: Any) -> Any:
    assert outcome.code == 0, outcome
    return outcome.json()


def test_sources_and_balances(wallet: Any, logged_in: str, cli: Any) -> None:
    second = wallet.add_test_card(logged_in)
    page = _json(cli("sources", "list", "--format", "json"))
    assert set(page) >= {"data", "has_more"} and page["has_more"] is False
    ids = [source["id"] for source in page["data"]]
    assert second in ids and len(ids) == 2
    card = page["data"][0]
    assert card["type"] == "card" and card["is_default"] is True
    assert len(card["card"]["last4"]) == 4 and "number" not in json.dumps(card)

    first = _json(cli("sources", "list", "--limit", "1", "--format", "json"))
    assert len(first["data"]) == 1 and first["has_more"] is True
    rest = _json(
        cli("sources", "list", "--starting-after", first["data"][0]["id"], "--format", "json")
    )
    assert [s["id"] for s in first["data"] + rest["data"]] == ids and rest["has_more"] is False
    bad = cli("sources", "list", "--starting-after", "csmrpd_nope", "--format", "json")
    assert bad.code == 1 and bad.json()["code"] == "invalid_request"

    balances = _json(cli("balances", "list", "--format", "json"))
    assert {b["source_id"] for b in balances["data"]} == set(ids)
    balance = balances["data"][0]
    assert balance["currency"] == "usd" and 0 < balance["current"] <= 50_000
    assert any(limit["type"] == "per_request" for limit in balance["limits"])
    assert isinstance(balance["as_of"], str) and balances["has_more"] is False


def _in_hours(hours: float) -> str:
    return str(int(time.time() + hours * 3600))


def test_expires_at_range_for_allowed_clients_only(
    wallet: Any,
    wallet_factory: Any,
    logged_in: str,
    cli: Any,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = cli(*create_args("--expires-at", _in_hours(72), "--format", "json"))
    assert refused.code == 1
    error = refused.json()
    assert error["code"] == "invalid_request" and "--expires-at" in error["message"]
    assert "may not choose" in error["message"]

    allowing = wallet_factory(extended_expiry_client_ids="some-other-app, link-cli")
    point_at(allowing, monkeypatch, cli_env)
    for hours, word in ((2.5, "at least 3 hours"), (7 * 24 + 1, "at most 7 days")):
        outside = cli(*create_args("--expires-at", _in_hours(hours), "--format", "json"))
        assert outside.code == 1 and word in outside.json()["message"], outside

    wanted = int(_in_hours(72))
    created = _json(cli(*create_args("--expires-at", str(wanted), "--format", "json")))
    assert created["expires_at"] != wanted  # while pending: the approval window's end
    allowing.approve(created["id"], logged_in)
    approved = _json(cli("spend-request", "retrieve", created["id"], "--format", "json"))
    assert approved["status"] == "approved"
    assert approved["expires_at"] == wanted  # echoed: the card lives 3 days, not 12 h
    with_card = _json(
        cli("spend-request", "retrieve", created["id"], "--include", "card", "--format", "json")
    )
    valid_until = with_card["card"]["valid_until"]
    assert abs(_unix(valid_until) - wanted) <= 1


def _unix(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def test_timestamps_are_unix_seconds_and_descriptions_strings(
    wallet: Any, logged_in: str, cli: Any
) -> None:
    _, api_key, _ = wallet.create_merchant("Mug Shop", "https://mugs.example")
    created = _json(cli(*create_args("--format", "json")))
    assert isinstance(created["expires_at"], int) and created["expires_at"] > time.time()
    assert isinstance(created["created_at"], str)  # ISO 8601, as declared
    wallet.approve(created["id"], logged_in)
    card = _json(
        cli("spend-request", "retrieve", created["id"], "--include", "card", "--format", "json")
    )["card"]
    with wallet.http() as client:
        charged = client.post(
            "/v1/test_network/card_charges",
            json={
                "number": card["number"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "cvc": card["cvc"],
                "amount": 1500,
                "currency": "usd",
            },
            headers={"Authorization": f"Bearer {api_key}"},
        )
    assert charged.status_code == 200, charged.text
    done = _json(cli("spend-request", "retrieve", created["id"], "--format", "json"))
    assert done["status"] == "succeeded"
    created_at = done["payment_status_details"]["created"]
    assert isinstance(created_at, int) and abs(created_at - time.time()) < 600
    listed = _json(cli("transactions", "list", "--format", "json"))["data"]
    assert listed and all(isinstance(t["description"], str) for t in listed)


def test_execution_method_is_a_clear_400(wallet: Any, logged_in: str, cli: Any) -> None:
    answer = cli(
        "spend-request",
        "create",
        "--amount",
        "1500",
        "--context",
        CONTEXT,
        "--execution-method",
        "link_pay_token",
        "--merchant-account-id",
        "acct_123",
        "--format",
        "json",
    )
    assert answer.code == 1
    error = answer.json()
    assert error["code"] == "unsupported_execution_method", error
    assert "Extra inputs" not in error["message"]
    with wallet.http() as client:  # the official client's body, straight to the wire
        token = wallet.agent_login(logged_in).access_token
        raw = client.post(
            "/spend_requests",
            json={
                "amount": 1500,
                "context": CONTEXT,
                "execution_method": "link_pay_token",
                "merchant_account_id": "acct_123",
                "currency": "USD",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert raw.status_code == 400 and raw.json()["error"]["code"] == "unsupported_execution_method"


def test_update_takes_profile_and_merchant_ids(wallet: Any, logged_in: str, cli: Any) -> None:
    spt = _json(
        cli(
            "spend-request",
            "create",
            "--credential-type",
            "shared_payment_token",
            "--network-id",
            "profile_old",
            "--amount",
            "500",
            "--context",
            CONTEXT,
            "--no-request-approval",
            "--format",
            "json",
        )
    )
    assert spt["status"] == "created"  # --no-request-approval: not sent to the person
    moved = _json(
        cli(
            "spend-request",
            "update",
            spt["id"],
            "--profile-id",
            "profile_new",
            "--merchant-id",
            "merch_1",
            "--currency",
            "USD",
            "--format",
            "json",
        )
    )
    assert moved["network_id"] == "profile_new" and moved["currency"] == "usd"
    card = _json(cli(*create_args("--no-request-approval", "--format", "json")))
    refused = cli("spend-request", "update", card["id"], "--profile-id", "p", "--format", "json")
    assert refused.code == 1 and "--profile-id" in refused.json()["message"]


def test_login_after_the_person_revoked_the_session(
    wallet: Any, logged_in: str, cli: Any, cli_env: dict[str, str]
) -> None:
    saved = json.loads(Path(cli_env["LINK_AUTH_FILE"]).read_text())
    with wallet.http() as client:  # what the person's "disconnect" does to the grant
        client.post(
            "/device/revoke", data={"client_id": "link-cli", "token": saved["refresh_token"]}
        )
    dead = cli("payment-methods", "list", "--format", "json")
    assert dead.code == 1 and dead.json()["code"] == "NOT_AUTHENTICATED"
    started = _json(cli("auth", "login", "--format", "json"))
    assert "Already logged in" not in json.dumps(started)
    assert started["phrase"] and started["verification_url"]
    assert started["_next"]["command"] == "link-cli auth status --interval 5 --max-attempts 60"
    wallet.approve_device(started["phrase"], logged_in)
    status = _json(cli("auth", "status", "--interval", "1", "--max-attempts", "5", "--json"))
    assert status["authenticated"] is True
    assert _json(cli("payment-methods", "list", "--json"))[0]["card_details"]["last4"]


def test_status_with_an_env_token_has_no_null_scope(
    wallet: Any, person: str, cli: Any, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(wallet, monkeypatch, cli_env)
    token = wallet.agent_login(person).access_token
    status = _json(cli("auth", "status", "--format", "json", LINK_ACCESS_TOKEN=token))
    assert status["authenticated"] is True and "scope" not in status
    assert status["access_token"] == token[:20] + "..." and status["token_type"] == "Bearer"
    assert status["source"] == "LINK_ACCESS_TOKEN"


@pytest.mark.anyio
async def test_mcp_tools_take_objects(wallet: Any, logged_in: str, cli_env: dict[str, str]) -> None:
    from mcp import Client

    from linkpay.cli.mcp_server import build_server

    server = build_server(auth_file=cli_env["LINK_AUTH_FILE"])
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        create = tools["spend_request_create"]
        assert create.input_schema["properties"]["context"]["minLength"] == 100
        for tool in tools.values():
            assert "--" not in (tool.description or ""), (tool.name, tool.description)
        answer = await client.call_tool(
            "spend_request_create",
            {
                "amount": 3000,
                "currency": "USD",
                "merchant_name": "Mug Shop",
                "merchant_url": "https://mugs.example",
                "context": CONTEXT,
                "line_item": [{"name": "Blue mug", "quantity": 2, "unit_amount": 1500}],
                "total": {"type": "total", "amount": 3000, "display_text": "Total"},
                "metadata": {"order": "42"},
            },
        )
        assert not answer.is_error, answer.structured_content
        created = answer.structured_content
        assert created["line_items"] == [{"name": "Blue mug", "quantity": 2, "unit_amount": 1500}]
        assert created["totals"][0]["amount"] == 3000 and created["metadata"] == {"order": "42"}
        assert created["currency"] == "usd" and created["status"] == "pending_approval"

        wrong = await client.call_tool(
            "spend_request_create",
            {
                "amount": 3000,
                "merchant_name": "Mug Shop",
                "merchant_url": "https://mugs.example",
                "context": CONTEXT,
                "line_item": [{"name": "Mug", "colour": "blue"}],
            },
        )
        assert wrong.is_error and wrong.structured_content["code"] == "INVALID_INPUT"
        assert "allowed keys" in wrong.structured_content["message"]
