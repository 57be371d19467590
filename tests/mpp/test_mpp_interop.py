"""Interop with mppx@0.11.0 (interop/): our `mpp pay` pays an mppx merchant that settles
on our wallet, and mppx's own client pays our merchant middleware. Node modules are
installed on first use; without Node or npm access these tests FAIL (no silent skip)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mpp_helpers import CONTEXT, agent_get, approved_spt

# The first test's setup may run `npm ci` (a clean clone: CI), which has its own 300 s
# limit; under the suite's default 120 s a slow registry failed all four tests instead.
pytestmark = [pytest.mark.interop, pytest.mark.timeout(420)]

INTEROP = Path(__file__).resolve().parents[2] / "interop"


@pytest.fixture(scope="session")
def node_project() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("interop needs node and npm on PATH (Node 20)")
    if not (INTEROP / "node_modules" / "mppx" / "package.json").exists():
        result = subprocess.run(
            [npm, "ci", "--legacy-peer-deps", "--no-audit", "--no-fund"],
            cwd=INTEROP,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(
                f"npm ci failed in {INTEROP} (is the npm registry reachable?):\n{result.stderr[-2000:]}"  # noqa: E501
            )
    return INTEROP


@pytest.fixture
def mppx_merchant(node_project: Path, wallet: Any):
    _, api_key, network_id = wallet.create_merchant("mppx interop merchant")
    env = dict(
        os.environ,
        WALLET_URL=wallet.base_url,
        MERCHANT_API_KEY=api_key,
        NETWORK_ID=network_id,
        MPP_SECRET="interop-secret-" + "x" * 32,
        PORT="0",
    )
    process = subprocess.Popen(
        ["node", "merchant.mjs"],
        cwd=node_project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"mppx merchant did not start: {process.stderr.read()[-2000:]}")
        url = json.loads(line)["url"]
        yield {"url": url, "api_key": api_key, "network_id": network_id}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_our_mpp_pay_pays_an_mppx_merchant(wallet, person, agent_token, mppx_merchant, cli):
    url = f"{mppx_merchant['url']}/paid"
    code, created = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
    assert code == 0, created
    assert created["spend_request"]["network_id"] == mppx_merchant["network_id"]
    assert created["challenge"]["realm"] == "mppx-interop.local"
    sid = created["spend_request"]["id"]
    wallet.approve(sid, person)
    code, paid = cli("mpp", "pay", url, "--spend-request-id", sid)
    assert code == 0, paid
    assert paid["status"] == 200 and json.loads(paid["body"]) == {"paid": True, "by": "mppx"}
    assert paid["receipt"]["reference"].startswith("pi_")
    assert agent_get(wallet, agent_token, sid)["status"] == "succeeded"
    code, free = cli("mpp", "pay", f"{mppx_merchant['url']}/free", "--spend-request-id", sid)
    assert code == 1 and free["code"] == "SPEND_REQUEST_NOT_USABLE"


def test_mppx_client_credential_is_accepted_by_our_merchant(
    node_project, wallet, person, agent_token, merchant
):
    sid, spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    result = subprocess.run(
        ["node", "pay.mjs", f"{merchant.base_url}/api/fortune"],
        cwd=node_project,
        env=dict(os.environ, SPT=spt),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 200, out
    from linkpay.mpp import wire

    receipt = wire.receipt_to_dict(wire.parse_receipt(out["receipt"]))
    assert receipt["reference"].startswith("pi_")
    assert json.loads(out["body"])["paid"]["reference"] == receipt["reference"]
    assert agent_get(wallet, agent_token, sid)["status"] == "succeeded"
