"""Real-time authorization latency: how long the wallet takes to answer a signed
Stripe `issuing_authorization.request` (verify the signature, run the one decision
function, record the decision and its audit entry, commit), next to a bare endpoint
served the same way in the same run (see bench/README.md).

    .venv/bin/python bench/webhook_bench.py [--requests 500] [--rounds 3]
                                            [--database-url URL]

The wallet runs as its own process (`link-wallet serve`, SQLite by default), pointed at
the in-repo Stripe fake (tests/fakes) only for the setup (connect, issue the card). The
load generator is a raw-socket HTTP/1.1 client on one keep-alive connection, sending
pre-signed requests one after another, so each figure is one request's full latency.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import httpx2  # noqa: E402

from fakes.common import stripe_signature  # noqa: E402
from fakes.stripe_api import SHAPES, FakeStripe  # noqa: E402
from linkpay.serving import free_loopback_port, serve_in_thread  # noqa: E402

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))
KEY, SECRET = "sk_test_" + "bench" * 6, "whsec_" + "bench" * 6
BARE_APP = """
from fastapi import FastAPI, Request
app = FastAPI()

@app.post("/bare")
async def bare(request: Request) -> dict[str, bool]:
    await request.body()
    return {"approved": True}
"""


class RawClient:
    """HTTP/1.1 over one socket: write the request bytes, read the status line, headers
    and a Content-Length body. Nothing else between us and the server."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        lines = [
            f"POST {path} HTTP/1.1",
            "Host: 127.0.0.1",
            f"Content-Length: {len(body)}",
            "Content-Type: application/json",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")[1:]
            if line.lower().startswith(b"content-length:")
        )
        while len(self.buffer) < length:
            self.buffer += self._recv()
        payload, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, payload

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx2.get(url, timeout=2)
            return
        except httpx2.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    fake = FakeStripe(KEY, SECRET)
    with (
        tempfile.TemporaryDirectory(prefix="linkpay-webhook-bench-") as name,
        serve_in_thread(lambda _b: fake.app, name="fake-stripe") as served,
    ):
        tmp = Path(name)
        database_url = args.database_url or f"sqlite:///{tmp / 'wallet.db'}"
        procs = []
        try:
            port, bare_port = free_loopback_port(), free_loopback_port()
            env = {
                **os.environ,
                "LINKPAY_DATA_DIR": str(tmp),
                "LINKPAY_STRIPE_API_BASE": served.base_url,
            }
            wallet = subprocess.Popen(
                [LINK_WALLET, "serve", "--port", str(port), "--database-url", database_url],
                env=env,
                stdout=open(tmp / "wallet.log", "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
            procs.append(wallet)
            _wait(f"http://127.0.0.1:{port}/signin", wallet)
            (tmp / "bare_app.py").write_text(BARE_APP)
            bare = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bare_app:app",
                    "--port",
                    str(bare_port),
                    "--log-level",
                    "warning",
                ],
                cwd=tmp,
            )
            procs.append(bare)
            _wait(f"http://127.0.0.1:{bare_port}/docs", bare)
            card = _approved_card(tmp, database_url, served.base_url, port)
            results = _measure(card, port, bare_port, args.requests, args.rounds)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(15)
    print(json.dumps(results, indent=2))


def _approved_card(tmp: Path, database_url: str, fake_url: str, port: int) -> str:
    """Connect Stripe, make a person (billing address, agent token), let the agent ask
    for a 500.00 card at "Bench Shop" and the person approve it; returns the card id."""
    from linkpay.wallet import accounts
    from linkpay.wallet.app import open_store
    from linkpay.wallet.auth.tokens import DEFAULT_AGENT_SCOPE, issue_tokens
    from linkpay.wallet.ids import new_id
    from linkpay.wallet.issuing.connections import connect
    from linkpay.wallet.issuing.service import credential_for
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.db import transaction
    from linkpay.wallet.store.models import ShippingAddress

    settings = Settings.from_env(data_dir=tmp, database_url=database_url, stripe_api_base=fake_url)
    engine, factory = open_store(settings)
    address = {
        "line_1": "1 Bench Road",
        "locality": "Springfield",
        "postal_code": "94103",
        "country_code": "US",
    }
    with transaction(factory) as s:
        connect(s, settings, provider="stripe", api_key=KEY, webhook_secret=SECRET)
        user = accounts.create_user(s, email="bench@example.com", name="Bench Person")
        accounts.add_test_card(s, user_id=user.id)
        s.add(ShippingAddress(id=new_id("shad"), user_id=user.id, is_default=True, address=address))
        token = issue_tokens(
            s,
            user_id=user.id,
            client_id="bench",
            scope=DEFAULT_AGENT_SCOPE,
            connection_label="bench",
            authorization_details=None,
            access_ttl=3600,
            refresh_ttl=3600,
        ).access_token
        user_id = user.id
    body = {
        "amount": 50_000,
        "currency": "usd",
        "merchant_name": "Bench Shop",
        "merchant_url": "https://bench.example",
        "request_approval": True,
        "context": "Benchmark purchase: the person asked for this and confirmed the "
        "price; one unit, standard shipping, from a shop they use often.",
    }
    answer = httpx2.post(
        f"http://127.0.0.1:{port}/spend_requests",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    request_id = answer.json()["id"]
    with transaction(factory) as s:
        service.approve_spend_request(
            s, user_id=user_id, spend_request_id=request_id, settings=settings
        )
    with transaction(factory) as s:
        credential = credential_for(s, request_id)
        assert credential is not None
        card = str(credential.issuer_ref)
    engine.dispose()
    return card


def _events(card: str, count: int) -> list[bytes]:
    """`count` authorization requests of 1 cent each (all within the approved amount)."""
    bodies = []
    for n in range(count):
        auth = dict(
            SHAPES["issuing.authorization"],
            id=f"iauth_bench{n}",
            card={"id": card, "object": "issuing.card"},
            merchant_data={
                **SHAPES["issuing.authorization"]["merchant_data"],
                "name": "BENCH SHOP",
                "url": None,
            },
            pending_request={
                **SHAPES["issuing.authorization"]["pending_request"],
                "amount": 1,
                "currency": "usd",
            },
        )
        event = dict(
            SHAPES["event"],
            id=f"evt_bench{n}",
            type="issuing_authorization.request",
            livemode=False,
            data={"object": auth},
        )
        bodies.append(json.dumps(event).encode())
    return bodies


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


def _measure(card: str, port: int, bare_port: int, count: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"requests_per_round": count, "rounds": []}
    for number in range(rounds):
        bodies = _events(card, count)
        signed = [(b, {"Stripe-Signature": stripe_signature(SECRET, b)}) for b in bodies]
        wallet, bare = RawClient(port), RawClient(bare_port)
        wallet_times, bare_times, approved = [], [], 0
        for body, headers in signed:
            started = time.perf_counter()
            status, payload = bare.post("/bare", body, headers)
            bare_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            status, payload = wallet.post("/webhooks/stripe", body, headers)
            wallet_times.append(time.perf_counter() - started)
            approved += status == 200 and json.loads(payload)["approved"] is True
        out["rounds"].append(
            {
                "round": number + 1,
                "approved": approved,
                "wallet": _percentiles(wallet_times),
                "bare": _percentiles(bare_times),
            }
        )
    for side in ("wallet", "bare"):
        for stat in ("p50_ms", "p99_ms"):
            values = [r[side][stat] for r in out["rounds"]]
            out[f"{side}_{stat}_median_of_rounds"] = statistics.median(values)
            out[f"{side}_{stat}_spread"] = [min(values), max(values)]
    return out


if __name__ == "__main__":
    main()
