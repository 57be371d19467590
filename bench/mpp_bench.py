"""MPP benchmarks: wire format, merchant gate, and a whole paid request end to end.

    .venv/bin/python bench/mpp_bench.py                 # defaults: 2 s per micro bench, 30 payments
    .venv/bin/python bench/mpp_bench.py --payments 100 --database-url postgresql://postgres@127.0.0.1:5432/test

1. wire: parse + select + validate a typical two-challenge WWW-Authenticate value, and
   build a credential (operations per second, one core).
2. gate: `PaymentGate.authorize` in process — a 402 with a fresh challenge, and a full
   verification of a valid credential (HMAC, expiry, scope, price, used-id claim) with an
   instant in-process processor; memory store and a SQLite store.
3. end to end: an embedded wallet (SQLite temp file, or `--database-url` for a fresh
   PostgreSQL database) and the demo merchant on loopback; for each payment the person
   approves an SPT spend request, then the timed part is `linkpay.mpp.client.pay`
   (retrieve the spend request with its token, probe → 402, check, paid retry, the
   merchant settles on the wallet's /v1/payment_intents) — p50/p95/max latency.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from linkpay.mpp import wire
from linkpay.mpp.charge import select_stripe
from linkpay.mpp.processor import PaymentIntentResult
from linkpay.mpp.server import PaymentGate, Price
from linkpay.mpp.stores import MemoryUsedChallengeStore, SqlUsedChallengeStore

CONTEXT = (
    "Benchmark purchase: one fortune from the demo merchant's paid API, approved by the "
    "benchmark's test person, to time a whole MPP payment."
)


def rate(fn: Any, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


class InstantProcessor:
    async def create_payment_intent(self, **kwargs: Any) -> PaymentIntentResult:
        return PaymentIntentResult(id="pi_" + secrets.token_hex(6), status="succeeded")


def bench_wire(seconds: float) -> None:
    gate = PaymentGate(
        realm="bench", secret_key="k" * 40, network_id="profile_bench", processor=InstantProcessor()
    )
    challenge = gate.issue(Price(100), http_method="GET", path="/api/fortune")
    value = 'Bearer realm="x", ' + challenge.to_www_authenticate("bench")
    parse = rate(lambda: select_stripe(wire.parse_challenges(value)), seconds)
    build = rate(lambda: wire.build_credential(challenge, "spt_bench"), seconds)
    print(f"wire   parse+select+validate challenge : {parse:10.0f} /s")
    print(f"wire   build credential                : {build:10.0f} /s")


def bench_gate(seconds: float, store: Any, label: str) -> None:
    gate = PaymentGate(
        realm="bench",
        secret_key="k" * 40,
        network_id="profile_bench",
        processor=InstantProcessor(),
        store=store,
    )
    price = Price(100)
    loop = asyncio.new_event_loop()

    def unpaid() -> None:
        loop.run_until_complete(
            gate.authorize(http_method="GET", path="/p", authorization=[], body=None, price=price)
        )

    def paid() -> None:
        challenge = gate.issue(price, http_method="GET", path="/p")
        credential = wire.build_credential(challenge, "spt_bench")
        outcome = loop.run_until_complete(
            gate.authorize(
                http_method="GET", path="/p", authorization=[credential], body=None, price=price
            )
        )
        assert outcome.status == 200

    print(f"gate   402 + fresh challenge ({label:6})    : {rate(unpaid, seconds):10.0f} /s")
    print(f"gate   issue + verify + settle ({label:6})  : {rate(paid, seconds):10.0f} /s")
    loop.close()


def bench_end_to_end(payments: int, database_url: str | None) -> None:
    from linkpay.client import Link
    from linkpay.merchant.embedded import start_embedded_merchant
    from linkpay.merchant.settings import MerchantSettings
    from linkpay.mpp.client import pay
    from linkpay.wallet.embedded import start_embedded_wallet

    drop = None
    if database_url:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        import os

        from conftest import create_pg_database, drop_pg_database  # type: ignore[import-not-found]

        os.environ.setdefault("LINKPAY_TEST_PG_URL", database_url)
        database_url = create_pg_database()
        drop = lambda: drop_pg_database(database_url)  # noqa: E731
    with start_embedded_wallet(database_url=database_url) as wallet:
        person = wallet.create_user(f"bench-{secrets.token_hex(4)}@example.com", "Bench Person")
        wallet.add_test_card(person)
        token = wallet.agent_login(person)
        _, api_key, network_id = wallet.create_merchant("Bench merchant")
        settings = MerchantSettings(
            wallet_url=wallet.base_url, api_key=api_key, network_id=network_id
        )
        with start_embedded_merchant(settings) as merchant, tempfile.TemporaryDirectory() as tmp:
            link = Link(
                api_base_url=wallet.base_url,
                auth_base_url=wallet.base_url,
                access_token=token.access_token,
                auth_file=Path(tmp) / "auth.json",
            )
            url = f"{merchant.base_url}/api/fortune"
            timings: list[float] = []
            for index in range(payments):
                created = pay(url, link=link, context=f"{CONTEXT} #{index}", test=True)
                sid = created["spend_request"]["id"]
                wallet.approve(sid, person)
                start = time.perf_counter()
                result = pay(url, link=link, spend_request_id=sid)
                timings.append((time.perf_counter() - start) * 1000)
                assert result["paid"] is True, result
            link.close()
    if drop:
        drop()
    timings.sort()
    p95 = timings[min(len(timings) - 1, math.ceil(len(timings) * 0.95) - 1)]
    kind = "postgres" if drop else "sqlite"
    p50 = statistics.median(timings)
    print(
        f"e2e    mpp pay, paid step ({kind}, n={payments}) : p50 {p50:.1f} ms,"
        f" p95 {p95:.1f} ms, max {timings[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--payments", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL (optional)")
    args = parser.parse_args()
    bench_wire(args.seconds)
    bench_gate(args.seconds, MemoryUsedChallengeStore(), "memory")
    with tempfile.TemporaryDirectory() as tmp:
        sql = SqlUsedChallengeStore(f"sqlite:///{tmp}/merchant.db")
        bench_gate(args.seconds, sql, "sqlite")
        sql.close()
    bench_end_to_end(args.payments, None)
    if args.database_url:
        bench_end_to_end(args.payments, args.database_url)


if __name__ == "__main__":
    main()
