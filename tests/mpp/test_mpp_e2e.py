"""End to end on loopback with the REAL wallet: `link-cli mpp pay` against the demo
merchant, settled on the wallet's test network; and conformance group
E (the wallet as SPT processor) through our merchant-side processor client."""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request
from mpp_helpers import CONTEXT, agent_get, approved_spt
from pydantic import SecretStr

from linkpay.merchant.embedded import start_embedded_merchant
from linkpay.mpp.processor import ProcessorDeclined, WalletProcessor


def test_agent_pays_the_demo_merchant_once(wallet, person, merchant, cli_logged_out):
    cli = cli_logged_out
    # The agent logs in with the device flow; the person approves the phrase.
    code, started = cli("auth", "login", "--client-name", "pytest-agent")
    assert code == 0 and started["phrase"], started
    wallet.approve_device(started["phrase"], person)
    code, logged_in = cli("auth", "login", "--client-name", "pytest-agent", "--interval", "1")
    assert code == 0 and logged_in["authenticated"] is True, logged_in

    url = f"{merchant.base_url}/api/fortune"
    import httpx2

    header = httpx2.get(url).headers["www-authenticate"]
    code, decoded = cli("mpp", "decode", "--challenge", header)
    assert code == 0 and decoded["network_id"] == merchant.network_id, decoded
    assert (decoded["amount"], decoded["currency"], decoded["expired"]) == (100, "usd", False)

    code, created = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
    assert code == 0, created
    spend_request = created["spend_request"]
    assert spend_request["credential_type"] == "shared_payment_token"
    assert spend_request["network_id"] == merchant.network_id
    assert (spend_request["amount"], spend_request["currency"]) == (100, "usd")
    assert spend_request["status"] == "pending_approval"
    assert spend_request["id"] in created["_next"]["pay_command"]

    wallet.approve(spend_request["id"], person)
    code, paid = cli("mpp", "pay", url, "--spend-request-id", spend_request["id"])
    assert code == 0, paid
    assert paid["paid"] is True and paid["status"] == 200
    reference = paid["receipt"]["reference"]
    assert reference.startswith("pi_") and paid["receipt"]["status"] == "success"
    assert json.loads(paid["body"])["paid"]["reference"] == reference
    # The reference is the wallet's own payment intent, visible to the merchant.
    with wallet.http() as http:
        intent = http.get(
            f"/v1/payment_intents/{reference}",
            headers={"Authorization": f"Bearer {merchant.api_key}"},
        )
    assert intent.status_code == 200 and intent.json()["status"] == "succeeded"
    code, retrieved = cli("spend-request", "retrieve", spend_request["id"])
    assert code == 0 and retrieved["status"] == "succeeded", retrieved

    code, again = cli("mpp", "pay", url, "--spend-request-id", spend_request["id"])
    assert code == 1
    assert again["code"] == "SPEND_REQUEST_NOT_USABLE"
    assert "new spend request" in again["message"]


def test_pay_refuses_a_higher_fresh_price_before_sending_the_token(
    wallet, person, agent_token, merchant, cli
):
    code, created = cli(
        "mpp", "pay", f"{merchant.base_url}/api/fortune", "--context", CONTEXT, "--test"
    )
    assert code == 0, created
    sid = created["spend_request"]["id"]
    wallet.approve(sid, person)
    dearer = merchant.settings.model_copy(update={"fortune_price": 150})
    with start_embedded_merchant(dearer) as raised:
        code, refused = cli(
            "mpp", "pay", f"{raised.base_url}/api/fortune", "--spend-request-id", sid
        )
    assert code == 1 and refused["code"] == "CHALLENGE_MISMATCH"
    assert "amount 150 is above the approved 100" in refused["message"]
    # The token was never shown to the merchant: still approved and usable at the right price.
    assert agent_get(wallet, agent_token, sid)["status"] == "approved"
    code, paid = cli("mpp", "pay", f"{merchant.base_url}/api/fortune", "--spend-request-id", sid)
    assert code == 0 and paid["paid"] is True


# --------------------------------------------------------------------------- group E


def redeem(
    processor: WalletProcessor,
    spt: str,
    *,
    amount: int = 100,
    currency: str = "usd",
    key: str = "k1",
):
    async def go():
        return await processor.create_payment_intent(
            amount=amount, currency=currency, spt=spt, idempotency_key=key
        )

    return anyio.run(go)


def test_e50_e52_redeem_once_and_idempotent_replay(wallet, person, agent_token, merchant):
    sid, spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    processor = WalletProcessor(wallet.base_url, merchant.api_key)
    first = redeem(processor, spt, amount=80, key=f"mpp_c1_{spt}")
    assert first.status == "succeeded" and first.id.startswith("pi_") and not first.replayed
    replay = redeem(processor, spt, amount=80, key=f"mpp_c1_{spt}")
    assert replay.id == first.id and replay.replayed is True
    with pytest.raises(ProcessorDeclined) as info:
        redeem(processor, spt, amount=80, key=f"mpp_c2_{spt}")
    assert info.value.code == "token_already_used"
    assert agent_get(wallet, agent_token, sid)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("case", "decline"),
    [
        ("network", "merchant_mismatch"),
        ("currency", "currency_not_supported"),
        ("amount", "amount_too_large"),
        ("unknown", "resource_missing"),
        ("revoked", "revocation_of_authorization"),
    ],
)
def test_e51_refusals_are_distinct(wallet, person, agent_token, merchant, case, decline):
    sid, spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    processor = WalletProcessor(wallet.base_url, merchant.api_key)
    kwargs: dict[str, Any] = {}
    if case == "network":
        _, other_key, _ = wallet.create_merchant("Other merchant")
        processor = WalletProcessor(wallet.base_url, other_key)
    elif case == "currency":
        kwargs["currency"] = "eur"
    elif case == "amount":
        kwargs["amount"] = 101
    elif case == "unknown":
        spt = "spt_does_not_exist"
    elif case == "revoked":
        with wallet.http(agent_token.access_token) as agent:
            assert agent.post(f"/spend_requests/{sid}/cancel").status_code == 200
    with pytest.raises(ProcessorDeclined) as info:
        redeem(processor, spt, **kwargs)
    assert info.value.code == decline


def test_e53_concurrent_redeems_have_one_winner(wallet, person, agent_token, merchant):
    _, spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    processor = WalletProcessor(wallet.base_url, merchant.api_key)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            outcomes.append(redeem(processor, spt, key=f"mpp_c{index}_{spt}").status)
        except ProcessorDeclined as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["succeeded"] + ["token_already_used"] * 5


def _challenge(url: str):
    import httpx2

    from linkpay.mpp import wire
    from linkpay.mpp.charge import select_stripe

    probe = httpx2.get(url)
    assert probe.status_code == 402
    return select_stripe(wire.parse_challenges(probe.headers.get_list("www-authenticate")))[0]


def test_one_challenge_pays_once_even_with_another_token(wallet, person, agent_token, merchant):
    import httpx2

    from linkpay.mpp import wire

    url = f"{merchant.base_url}/api/fortune"
    first_sid, first_spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    second_sid, second_spt = approved_spt(
        wallet, person, agent_token, merchant.network_id, amount=120
    )
    challenge = _challenge(url)
    ok = httpx2.get(url, headers={"Authorization": wire.build_credential(challenge, first_spt)})
    assert ok.status_code == 200
    reused = httpx2.get(
        url, headers={"Authorization": wire.build_credential(challenge, second_spt)}
    )
    assert reused.status_code == 402
    assert reused.json()["type"].endswith("/invalid-challenge")
    assert agent_get(wallet, agent_token, first_sid)["status"] == "succeeded"
    # The second token never reached the wallet: its request is still approved.
    assert agent_get(wallet, agent_token, second_sid)["status"] == "approved"


def test_parallel_requests_with_one_credential_settle_once_on_the_wallet(
    wallet, person, agent_token, merchant
):
    import httpx2

    from linkpay.mpp import wire

    url = f"{merchant.base_url}/api/fortune"
    sid, spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    credential = wire.build_credential(_challenge(url), spt)
    statuses: list[int] = []
    receipts: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        response = httpx2.get(url, headers={"Authorization": credential}, timeout=60)
        statuses.append(response.status_code)
        if response.status_code == 200:
            receipts.append(wire.parse_receipt(response.headers["payment-receipt"]).reference)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [402] * 7
    assert agent_get(wallet, agent_token, sid)["status"] == "succeeded"
    with wallet.http(agent_token.access_token) as agent:
        transactions = agent.get("/transactions").json()["data"]
    # The person is fresh: exactly one charge ever reached their account.
    assert [(t["source_id"], t["amount"], t["status"]) for t in transactions] == [
        (receipts[0], 100, "succeeded")
    ]


def test_merchant_crash_after_settlement_is_outcome_unknown_but_the_wallet_knows(
    wallet, person, agent_token, cli
):
    """The merchant settles, then its endpoint fails (500): `mpp pay` never retries and
    reports what the wallet says (succeeded), so the agent does not pay twice."""
    from linkpay.mpp.processor import WalletProcessor
    from linkpay.mpp.server import PaymentGate, Price
    from linkpay.serving import serve_in_thread

    _, api_key, network_id = wallet.create_merchant("Crashing merchant")

    def build(base_url: str) -> FastAPI:
        gate = PaymentGate(
            realm="crash.local",
            secret_key="c" * 40,
            network_id=network_id,
            processor=WalletProcessor(wallet.base_url, api_key),
        )
        app = FastAPI()

        @app.get("/api/thing")
        @gate.charge(Price(100))
        async def thing(request: Request) -> dict:
            raise RuntimeError("the resource broke after payment")

        return app

    with serve_in_thread(build) as served:
        url = f"{served.base_url}/api/thing"
        code, created = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
        assert code == 0, created
        sid = created["spend_request"]["id"]
        wallet.approve(sid, person)
        code, failed = cli("mpp", "pay", url, "--spend-request-id", sid)
    assert code == 1
    assert failed["code"] == "PAYMENT_OUTCOME_UNKNOWN"
    assert failed["spend_request_status"] == "succeeded" and failed["status"] == 500
    assert "never pay again" in failed["message"]


def test_running_mpp_pay_twice_resumes_the_pending_request(wallet, person, merchant, cli):
    url = f"{merchant.base_url}/api/fortune"
    code, first = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
    assert code == 0, first
    code, second = cli("mpp", "pay", url, "--context", CONTEXT, "--test")
    assert code == 0, second
    assert second["resumed"] is True
    assert second["spend_request"]["id"] == first["spend_request"]["id"]
    assert first["spend_request"]["id"] in second["_next"]["pay_command"]


def test_person_without_a_payment_method(wallet, merchant, tmp_path, monkeypatch):
    import io

    from linkpay.cli.app import run

    cardless = wallet.create_user("no-card@example.com", "No Card")
    token = wallet.agent_login(cardless)
    monkeypatch.setenv("LINK_API_BASE_URL", wallet.base_url)
    monkeypatch.setenv("LINK_AUTH_BASE_URL", wallet.base_url)
    monkeypatch.setenv("LINK_AUTH_FILE", str(tmp_path / "auth.json"))
    monkeypatch.setenv("LINK_ACCESS_TOKEN", token.access_token)
    out = io.StringIO()
    url = f"{merchant.base_url}/api/fortune"
    code = run(["mpp", "pay", url, "--context", CONTEXT, "--format", "json"], stdout=out)
    answer = json.loads(out.getvalue())
    assert code == 1 and answer["code"] == "NO_PAYMENT_METHOD", answer
    assert "payment-methods add" in answer["_next"]["command"]


def test_merchant_with_a_wrong_processor_key_never_burns_the_token(
    wallet, person, agent_token, merchant
):
    import httpx2

    from linkpay.merchant.embedded import start_embedded_merchant
    from linkpay.mpp import wire

    misconfigured = merchant.settings.model_copy(update={"api_key": SecretStr("sk_test_wrong")})
    sid, spt = approved_spt(wallet, person, agent_token, merchant.network_id)
    with start_embedded_merchant(misconfigured) as broken:
        url = f"{broken.base_url}/api/fortune"
        answer = httpx2.get(
            url, headers={"Authorization": wire.build_credential(_challenge(url), spt)}
        )
    assert answer.status_code == 500
    assert answer.json()["type"].endswith("/internal-payment-error")
    assert "sk_test_wrong" not in answer.text
    assert agent_get(wallet, agent_token, sid)["status"] == "approved"
