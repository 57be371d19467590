"""Helpers and fixtures for the MPP tests. A module with its own name: several test
folders have a conftest.py, so `from conftest import …` would be ambiguous."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Request

from linkpay.merchant.embedded import start_embedded_merchant
from linkpay.merchant.settings import MerchantSettings
from linkpay.mpp.processor import PaymentIntentResult, ProcessorDeclined, ProcessorUnavailable
from linkpay.mpp.server import PaymentGate, Price

SECRET = "s" * 40
NETWORK_ID = "profile_test_merchant"


class RecordingProcessor:
    """Stands in for the wallet's /v1/payment_intents in merchant unit tests (the real
    wallet is used in test_mpp_e2e.py). `mode`: succeed | decline | unavailable | action."""

    def __init__(self, mode: str = "succeed", delay: float = 0.0) -> None:
        self.mode = mode
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    async def create_payment_intent(self, **kwargs: Any) -> PaymentIntentResult:
        with self._lock:
            self.calls.append(kwargs)
        if self.delay:
            await asyncio.sleep(self.delay)  # latency of a real processor, widens races
        if self.mode == "decline":
            raise ProcessorDeclined("token_already_used", "This token was already used.")
        if self.mode == "unavailable":
            raise ProcessorUnavailable("processor answered 503")
        status = "requires_action" if self.mode == "action" else "succeeded"
        return PaymentIntentResult(id=f"pi_{secrets.token_hex(6)}", status=status)


def make_gate(
    processor: Any = None,
    *,
    store: Any = None,
    secret: Any = SECRET,
    clock: Any = None,
    realm: str = "merchant.test",
) -> PaymentGate:
    return PaymentGate(
        realm=realm,
        secret_key=secret,
        network_id=NETWORK_ID,
        processor=processor or RecordingProcessor(),
        store=store,
        clock=clock,
    )


def make_app(gate: PaymentGate) -> FastAPI:
    app = FastAPI()
    fortune = Price(100, "usd", "One fortune")

    @app.get("/api/fortune", openapi_extra=gate.openapi_extra(fortune))
    @gate.charge(fortune)
    async def paid_fortune(request: Request) -> dict:
        return {"fortune": "yes", "reference": request.state.mpp_payment.reference}

    @app.get("/api/other")
    @gate.charge(fortune)
    async def paid_other(request: Request) -> dict:
        return {"other": True}

    @app.post("/api/order")
    @gate.charge(Price(250, "usd", "An order", external_id="order_42"))
    async def paid_order(request: Request) -> dict:
        return {"ordered": (await request.json())}

    app.state.gate = gate
    return app


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class StubSpendRequests:
    """Stands in for the SDK's `spend_requests` in client unit tests (the real SDK and
    wallet are used in test_mpp_e2e.py)."""

    current: Any = None
    created: list[Any] = field(default_factory=list)
    retrieved: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def retrieve(self, spend_request_id: str, *, include: Any = ()) -> Any:
        self.retrieved.append((spend_request_id, tuple(include)))
        return self.current

    waited: list[str] = field(default_factory=list)
    outcome_after_wait: Any = None

    def wait_for(self, spend_request_id: str, **kwargs: Any) -> Any:
        """As if the person decided while we waited: `outcome_after_wait` becomes current."""
        self.waited.append(spend_request_id)
        self.current = self.outcome_after_wait
        return self.current

    def create(self, body: Any) -> Any:
        from linkpay.wire import SpendRequest

        self.created.append(body)
        now = "2026-06-01T12:00:00Z"
        return SpendRequest(
            id="lsrq_new",
            status="pending_approval",
            context=body.context,
            amount=body.amount,
            currency=body.currency,
            credential_type=body.credential_type,
            network_id=body.network_id,
            approval_url="http://127.0.0.1:8765/approve/lsrq_new",
            created_at=now,
            updated_at=now,
        )


@dataclass
class StubLink:
    spend_requests: StubSpendRequests = field(default_factory=StubSpendRequests)


def approved_spend_request(
    amount: int = 100,
    currency: str = "usd",
    network_id: str = NETWORK_ID,
    *,
    status: str = "approved",
    credential_type: str = "shared_payment_token",
    spt: str | None = "spt_test_123",
    valid_until: str | None = None,
) -> Any:
    from linkpay.wire import SharedPaymentToken, SpendRequest

    return SpendRequest(
        id="lsrq_approved",
        status=status,
        context="x" * 100,
        amount=amount,
        currency=currency,
        credential_type=credential_type,
        network_id=network_id if credential_type != "card" else None,
        shared_payment_token=SharedPaymentToken(id=spt, valid_until=valid_until) if spt else None,
        created_at="2026-06-01T12:00:00Z",
        updated_at="2026-06-01T12:00:00Z",
    )


@pytest.fixture
def processor() -> RecordingProcessor:
    return RecordingProcessor()


# --------------------------------------------------------------------------- real wallet

CONTEXT = (
    "Buying one fortune from the demo merchant's paid API (GET /api/fortune, 1.00 USD) "
    "because the person asked the agent for today's fortune."
)


@pytest.fixture
def merchant(wallet: Any):
    _, api_key, network_id = wallet.create_merchant("Fortune API")
    settings = MerchantSettings(wallet_url=wallet.base_url, api_key=api_key, network_id=network_id)
    with start_embedded_merchant(settings) as served:
        served.api_key = api_key
        served.network_id = network_id
        served.settings = settings
        yield served


def _cli_runner(monkeypatch: pytest.MonkeyPatch, wallet: Any, tmp_path: Any) -> Any:
    from linkpay.cli.app import run

    for name in ("LINK_ACCESS_TOKEN", "LINK_REFRESH_TOKEN", "LINK_HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINK_API_BASE_URL", wallet.base_url)
    monkeypatch.setenv("LINK_AUTH_BASE_URL", wallet.base_url)
    monkeypatch.setenv("LINK_AUTH_FILE", str(tmp_path / "auth.json"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("NO_UPDATE_NOTIFIER", "1")

    def invoke(*args: str) -> tuple[int, Any]:
        out, err = io.StringIO(), io.StringIO()
        code = run([*args, "--format", "json"], stdout=out, stderr=err)
        assert "Traceback" not in out.getvalue() + err.getvalue()
        return code, json.loads(out.getvalue())

    return invoke


@pytest.fixture
def cli(wallet: Any, agent_token: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch):
    """`cli(*args) -> (exit code, JSON output)` through the real `link-cli` entry point,
    as an agent holding `agent_token`."""
    invoke = _cli_runner(monkeypatch, wallet, tmp_path)
    monkeypatch.setenv("LINK_ACCESS_TOKEN", agent_token.access_token)
    return invoke


@pytest.fixture
def cli_logged_out(wallet: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch):
    """The same, with no credentials at all: the test logs in with `auth login`."""
    return _cli_runner(monkeypatch, wallet, tmp_path)


def agent_get(wallet: Any, token: Any, spend_request_id: str) -> dict[str, Any]:
    with wallet.http(token.access_token) as agent:
        response = agent.get(f"/spend_requests/{spend_request_id}")
        assert response.status_code == 200, response.text
        return response.json()


def approved_spt(
    wallet: Any, person: str, token: Any, network_id: str, amount: int = 100
) -> tuple[str, str]:
    with wallet.http(token.access_token) as agent:
        created = agent.post(
            "/spend_requests",
            json={
                "credential_type": "shared_payment_token",
                "network_id": network_id,
                "amount": amount,
                "currency": "usd",
                "context": CONTEXT,
                "test": True,
                "request_approval": True,
            },
        )
        assert created.status_code == 200, created.text
        sid = created.json()["id"]
        wallet.approve(sid, person)
        got = agent.get(f"/spend_requests/{sid}", params={"include": "shared_payment_token"})
    return sid, got.json()["shared_payment_token"]["id"]
