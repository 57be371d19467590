"""`mpp_decode` and `mpp_pay` as MCP tools (`link-cli --mcp` over stdio, the official
client) against the real wallet and the demo merchant: tools never block on the person,
they hand back `_next` with the tool call to make once approved."""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx2
import pytest
from mpp_helpers import CONTEXT


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_mpp_tools_pay_over_mcp(
    wallet: Any, person: str, agent_token: Any, merchant: Any, tmp_path: Any
):
    from mcp import Client, StdioServerParameters

    env = {
        **os.environ,
        "LINK_API_BASE_URL": wallet.base_url,
        "LINK_AUTH_BASE_URL": wallet.base_url,
        "LINK_AUTH_FILE": str(tmp_path / "auth.json"),
        "LINK_ACCESS_TOKEN": agent_token.access_token,
        "NO_UPDATE_NOTIFIER": "1",
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "linkpay.cli", "--mcp"], env=env
    )
    url = f"{merchant.base_url}/api/fortune"
    challenge = httpx2.get(url).headers["www-authenticate"]
    async with Client(params) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert {"mpp_decode", "mpp_pay"} <= set(tools)
        assert tools["mpp_decode"].annotations.read_only_hint is True

        decoded = await client.call_tool("mpp_decode", {"challenge": challenge})
        assert not decoded.is_error
        assert decoded.structured_content["network_id"] == merchant.network_id

        started = await client.call_tool(
            "mpp_pay", {"url": url, "context": CONTEXT, "test": True, "header": ["X-Agent: mcp"]}
        )
        assert not started.is_error, started
        result = started.structured_content
        sid = result["spend_request"]["id"]
        assert result["_next"]["then_tool"] == "mpp_pay"
        assert result["_next"]["then_arguments"] == {
            "url": url,
            "spend_request_id": sid,
            "header": ["X-Agent: mcp"],
        }

        wallet.approve(sid, person)
        paid = await client.call_tool("mpp_pay", result["_next"]["then_arguments"])
        assert not paid.is_error, paid
        assert paid.structured_content["paid"] is True
        assert paid.structured_content["receipt"]["reference"].startswith("pi_")

        again = await client.call_tool("mpp_pay", result["_next"]["then_arguments"])
        assert again.is_error and again.structured_content["code"] == "SPEND_REQUEST_NOT_USABLE"
