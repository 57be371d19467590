"""`link-cli --mcp` over stdio with the official client, against the real wallet; and
`link-cli serve` (streamable HTTP) refusing foreign origins."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import pytest
from cli_helpers import CONTEXT, wait_until

from linkpay.serving import free_loopback_port


def _params(cli_env: dict[str, str]) -> Any:
    from mcp import StdioServerParameters

    return StdioServerParameters(
        command=sys.executable, args=["-m", "linkpay.cli", "--mcp"], env={**os.environ, **cli_env}
    )


@pytest.mark.anyio
async def test_mcp_tools_against_the_wallet(
    wallet: Any, logged_in: str, cli_env: dict[str, str]
) -> None:
    from mcp import Client

    async with Client(_params(cli_env)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert {
            "spend_request_create",
            "spend_request_retrieve",
            "auth_status",
            "payment_methods_list",
        } <= set(tools)
        assert "serve" not in tools and "demo" not in tools
        schema = tools["spend_request_create"].input_schema
        assert {"amount", "merchant_name", "context", "line_item"} <= set(schema["properties"])
        assert all("$ref" not in json.dumps(prop) for prop in schema["properties"].values())
        assert set(schema["required"]) == {"amount", "context"}
        assert tools["spend_request_retrieve"].annotations.read_only_hint is True

        bad = await client.call_tool(
            "spend_request_create",
            {
                "amount": 0,
                "context": CONTEXT,
                "merchant_name": "Mugs",
                "merchant_url": "https://mugs.example",
            },
        )
        assert bad.is_error and bad.structured_content["code"] == "INVALID_INPUT"
        assert bad.structured_content["message"].startswith("amount:")

        created = await client.call_tool(
            "spend_request_create",
            {
                "amount": 2400,
                "context": CONTEXT,
                "merchant_name": "Mugs",
                "merchant_url": "https://mugs.example",
                "request_approval": True,
                "line_item": ["name:Blue mug,quantity:1,unit_amount:2400"],
            },
        )
        assert not created.is_error, created
        request = created.structured_content
        assert request["status"] == "pending_approval"
        assert request["_next"]["tool"] == "spend_request_retrieve"
        assert request["_next"]["arguments"]["id"] == request["id"]

        waiting = await client.call_tool(
            "spend_request_retrieve", {"id": request["id"], "interval": 1, "timeout": 1}
        )
        assert not waiting.is_error  # bounded wait: returns, never blocks on the person
        assert waiting.structured_content["status"] == "pending_approval"
        assert waiting.structured_content["_next"]["tool"] == "spend_request_retrieve"

        wallet.approve(request["id"], logged_in)
        approved = await client.call_tool(
            "spend_request_retrieve", {"id": request["id"], "interval": 1}
        )
        assert approved.structured_content["status"] == "approved"
        with_card = await client.call_tool(
            "spend_request_retrieve", {"id": request["id"], "include": ["card"]}
        )
        number = with_card.structured_content["card"]["number"]
        for reply in (created, waiting, approved):
            assert number not in json.dumps(reply.structured_content)
            assert all(number not in block.text for block in reply.content)

        missing = await client.call_tool("spend_request_retrieve", {"id": "lsrq_missing"})
        assert missing.is_error and missing.structured_content["code"] == "NOT_FOUND"


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_serve_rejects_foreign_origin(cli_env: dict[str, str]) -> None:
    import httpx2

    port = free_loopback_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkpay.cli", "serve", "--port", str(port)],
        env={**os.environ, **cli_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _accepting(port) or proc.poll() is not None, what="serve to listen")
        assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "pytest", "version": "1"},
            },
        }
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        with httpx2.Client(timeout=10) as client:
            foreign = client.post(
                f"{base}/mcp", json=init, headers={**headers, "Origin": "https://evil.example"}
            )
            assert foreign.status_code == 403
            assert client.get(f"{base}/other").status_code == 404
            rebound = client.post(  # DNS rebinding: a foreign Host header
                f"{base}/mcp", json=init, headers={**headers, "Host": f"evil.example:{port}"}
            )
            assert rebound.status_code in (403, 421)
            local = client.post(f"{base}/mcp", json=init, headers={**headers, "Origin": base})
            assert local.status_code == 200, local.text
            assert "link-cli" in local.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_warns_on_non_loopback_bind(cli_env: dict[str, str]) -> None:
    port = free_loopback_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkpay.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        env={**os.environ, **cli_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stderr.readline()  # type: ignore[union-attr]
        assert "WARNING" in first and "not a loopback address" in first
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 and handshake-era clients
async def test_mcp_stdio_modes_and_typed_errors(cli_env: dict[str, str], mode: str) -> None:
    from mcp import Client

    async with Client(_params(cli_env), mode=mode) as client:  # type: ignore[arg-type]
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "spend_request_list" in names
        down = await client.call_tool("spend_request_list", {})
        assert down.is_error and down.structured_content["code"] == "NOT_AUTHENTICATED"
        status = await client.call_tool("auth_status", {})
        assert not status.is_error and status.structured_content["authenticated"] is False
        assert status.structured_content["_next"]["tool"] == "auth_login"
        wrong = await client.call_tool("spend_request_retrieve", {"id": "x", "bogus": 1})
        assert wrong.is_error and wrong.structured_content["code"] == "INVALID_INPUT"
