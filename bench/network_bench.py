"""Test network throughput: credential issuing, card charges and SPT redemptions on
SQLite and PostgreSQL (see bench/README.md, "network_bench.py").

    .venv/bin/python bench/network_bench.py [--count 300] [--concurrency 16]
                                            [--databases sqlite,postgres]

The wallet runs as its own process (`link-wallet serve`, helpers from wallet_bench.py);
this process prepares approved spend requests through the service functions (the same
code the approval page runs), then is the load generator (httpx2, asyncio, keep-alive).
Every card and token is charged exactly once, so each request does the full work: find,
verify, compare-and-set, settle, record.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import wallet_bench  # same directory: server start/stop and PostgreSQL helpers

CONTEXT = "Benchmark purchase: one unit of the item the person asked for, standard shipping."


def prepare(tmp: Path, database_url: str, count: int, kind: str) -> dict[str, Any]:
    """`count` approved spend requests of `kind` with their credentials, and a merchant."""
    from linkpay.wallet import accounts
    from linkpay.wallet.app import open_store
    from linkpay.wallet.ids import new_id
    from linkpay.wallet.issuing import service as issuing
    from linkpay.wallet.network.merchants import create_merchant
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.spend.service import approve_spend_request
    from linkpay.wallet.store.db import transaction
    from linkpay.wallet.store.models import SpendRequest

    settings = Settings.from_env(data_dir=tmp, database_url=database_url)
    engine, factory = open_store(settings)
    with transaction(factory) as s:
        user = accounts.create_user(s, email=f"bench-{secrets.token_hex(3)}@example.com")
        method = accounts.add_test_card(s, user_id=user.id)
        merchant, api_key = create_merchant(s, name="Bench Shop", url="https://bench.example")
        user_id, method_id, network_id = user.id, method.id, merchant.network_id
    credentials: list[Any] = []
    started = time.perf_counter()
    for _ in range(count):
        with transaction(factory) as s:
            row = SpendRequest(
                id=new_id("lsrq"),
                user_id=user_id,
                status="pending_approval",
                credential_type=kind,
                network_id=network_id if kind != "card" else None,
                amount=1000,
                currency="usd",
                merchant_name="Bench Shop" if kind == "card" else None,
                merchant_url="https://bench.example/checkout" if kind == "card" else None,
                context=CONTEXT,
                line_items=[],
                totals=[],
                payment_method_id=method_id,
            )
            s.add(row)
            s.flush()
            approved = approve_spend_request(
                s, user_id=user_id, spend_request_id=row.id, settings=settings
            )
            if kind == "card":
                credentials.append(issuing.reveal_card(s, approved, settings=settings))
            else:
                credentials.append(issuing.shared_payment_token(s, approved))
    approve_seconds = time.perf_counter() - started
    engine.dispose()
    return {"api_key": api_key, "credentials": credentials, "approve_seconds": approve_seconds}


async def fire(
    base_url: str,
    concurrency: int,
    jobs: list[Callable[[httpx2.AsyncClient], Awaitable[httpx2.Response]]],
) -> tuple[float, list[float], dict[int, int]]:
    """Run every job once with `concurrency` workers; (seconds, latencies, statuses)."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(reversed(jobs))
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while queue:
                job = queue.pop()
                began = time.perf_counter()
                answer = await job(client)
                latencies.append(time.perf_counter() - began)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses


def _card_job(card: Any, headers: dict[str, str]) -> Callable[[httpx2.AsyncClient], Any]:
    body = {
        "number": card.number,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "cvc": card.cvc,
        "amount": 1000,
        "currency": "usd",
    }
    return lambda client: client.post("/v1/test_network/card_charges", json=body, headers=headers)


def _token_job(token: Any, headers: dict[str, str]) -> Callable[[httpx2.AsyncClient], Any]:
    form = {
        "amount": "1000",
        "currency": "usd",
        "confirm": "true",
        "shared_payment_granted_token": token.id,
    }
    return lambda client: client.post("/v1/payment_intents", data=form, headers=headers)


def _line(name: str, seconds: float, latencies: list[float], statuses: dict[int, int]) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    return (
        f"  {name:<34} {len(latencies) / seconds:8.1f} req/s   p50 {p50:6.1f} ms   "
        f"p95 {p95:6.1f} ms   statuses {dict(sorted(statuses.items()))}"
    )


def bench_database(label: str, database_url: str, count: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory(prefix="linkpay-netbench-") as raw_tmp:
        tmp = Path(raw_tmp)
        port = wallet_bench._free_port()
        proc = wallet_bench.start_wallet(tmp, database_url, port)
        base_url = f"http://127.0.0.1:{port}"
        try:
            print(f"{label}:")
            cards = prepare(tmp, database_url, count, "card")
            print(
                f"  {'approve + issue card (in process)':<34} "
                f"{count / cards['approve_seconds']:8.1f} /s"
            )
            headers = {"Authorization": f"Bearer {cards['api_key']}"}
            jobs = [_card_job(card, headers) for card in cards["credentials"]]
            print(
                _line(
                    "card charge (each card once)", *asyncio.run(fire(base_url, concurrency, jobs))
                )
            )
            tokens = prepare(tmp, database_url, count, "shared_payment_token")
            headers = {"Authorization": f"Bearer {tokens['api_key']}"}
            jobs = [_token_job(token, headers) for token in tokens["credentials"]]
            print(
                _line(
                    "SPT payment intent (each once)",
                    *asyncio.run(fire(base_url, concurrency, jobs)),
                )
            )
            one = prepare(tmp, database_url, 1, "card")
            headers = {"Authorization": f"Bearer {one['api_key']}"}
            jobs = [_card_job(one["credentials"][0], headers) for _ in range(50)]
            print(_line("50 racing charges of one card", *asyncio.run(fire(base_url, 50, jobs))))
        finally:
            wallet_bench.stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="cards and tokens per database")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=wallet_bench.DEFAULT_PG)
    args = parser.parse_args()
    for label in args.databases.split(","):
        if label == "sqlite":
            with tempfile.TemporaryDirectory() as db_dir:
                bench_database(
                    "sqlite", f"sqlite:///{db_dir}/wallet.db", args.count, args.concurrency
                )
        elif label == "postgres":
            url = wallet_bench._pg_database(args.pg_url)
            if url is None:
                continue
            try:
                bench_database("postgres", url, args.count, args.concurrency)
            finally:
                wallet_bench._drop_pg(args.pg_url, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
