"""Wallet throughput: spend-request create and retrieve on SQLite and PostgreSQL, next to
a bare FastAPI endpoint served the same way in the same run (see bench/README.md).

    .venv/bin/python bench/wallet_bench.py [--seconds 5] [--concurrency 16]
                                           [--databases sqlite,postgres]

Each server runs as its own process (`link-wallet serve`, or uvicorn with a one-route
app); this process is only the load generator (httpx2, asyncio, keep-alive).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from linkpay.serving import free_loopback_port

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))
DEFAULT_PG = os.environ.get("LINKPAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONTEXT = (
    "Benchmark purchase {n}: the person asked for this item in chat and confirmed the "
    "price; buying one unit with standard shipping."
)


@dataclass
class Result:
    name: str
    ok: int
    errors: int
    seconds: float

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


# -- servers -------------------------------------------------------------------------------
def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx2.get(url, timeout=2)
            return
        except httpx2.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


BARE_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.get("/bare")
def bare() -> dict[str, bool]:
    return {"ok": True}
"""


def start_bare(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    (tmp / "bare_app.py").write_text(BARE_APP)
    log = open(tmp / "bare.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_until_up(f"http://127.0.0.1:{port}/bare", proc)
    return proc


# The bench agent creates thousands of requests: let the operator allow it, and the
# bench person raise Link's default limits (30 active, 50 creates an hour, …) to that.
UNLIMITED = 1_000_000_000
RAISED_LIMITS = (
    "per_day",
    "per_30_days",
    "max_active",
    "max_approved_unused",
    "creates_per_hour",
    "creates_per_60_days",
)
POLICY_MAXIMA = {f"LINKPAY_POLICY_MAX_{name.upper()}": str(UNLIMITED) for name in RAISED_LIMITS}


def start_wallet(tmp: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LINKPAY_DATA_DIR": str(tmp), **POLICY_MAXIMA}
    log = open(tmp / "wallet.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [LINK_WALLET, "serve", "--port", str(port), "--database-url", database_url],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_until_up(f"http://127.0.0.1:{port}/openapi.json", proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def agent_token(tmp: Path, database_url: str, base_url: str) -> str:
    """A person with a test card, and an agent logged in through the device flow."""
    from linkpay.wallet import accounts
    from linkpay.wallet.app import open_store
    from linkpay.wallet.auth.device import approve_device_grant
    from linkpay.wallet.policy import edit
    from linkpay.wallet.policy.limits import DEFAULT_MAXIMUMS, Limits
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.store.db import transaction

    settings = Settings.from_env(data_dir=tmp, database_url=database_url)
    engine, factory = open_store(settings)
    with transaction(factory) as s:
        user = accounts.create_user(s, email=f"bench-{secrets.token_hex(3)}@example.com")
        accounts.add_test_card(s, user_id=user.id)
        user_id = user.id
    raised = dict.fromkeys(RAISED_LIMITS, UNLIMITED)
    with transaction(factory) as s:
        edit.set_limits(
            s,
            user_id,
            raised,
            maximum=Limits(**{**DEFAULT_MAXIMUMS.as_dict(), **raised}),
            actor="bench",
            confirmed_by="bench",
        )
    code = httpx2.post(f"{base_url}/device/code", data={"client_id": "bench"}).json()
    with transaction(factory) as s:
        approve_device_grant(s, user_id=user_id, user_code=code["user_code"])
    engine.dispose()
    token = httpx2.post(
        f"{base_url}/device/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": code["device_code"],
            "client_id": "bench",
        },
    ).json()
    return str(token["access_token"])


# -- load ----------------------------------------------------------------------------------
async def run_load(
    name: str,
    base_url: str,
    seconds: float,
    concurrency: int,
    request: Callable[[httpx2.AsyncClient, int], Awaitable[Any]],
    headers: dict[str, str] | None = None,
) -> Result:
    ok = errors = 0
    counter = 0
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=30
    ) as client:
        await request(client, -1)  # warm up the connection pool and the route
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def worker() -> None:
            nonlocal ok, errors, counter
            while time.perf_counter() < deadline:
                counter += 1
                answer = await request(client, counter)
                if 200 <= answer.status_code < 300:
                    ok += 1
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, ok, errors, elapsed)


def bench_bare(tmp: Path, seconds: float, concurrency: int) -> Result:
    port = free_loopback_port()
    proc = start_bare(tmp, port)
    try:
        return asyncio.run(
            run_load(
                "bare FastAPI GET",
                f"http://127.0.0.1:{port}",
                seconds,
                concurrency,
                lambda c, _n: c.get("/bare"),
            )
        )
    finally:
        stop(proc)


def bench_wallet(
    tmp: Path, label: str, database_url: str, seconds: float, concurrency: int
) -> list[Result]:
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = start_wallet(tmp, database_url, port)
    try:
        token = agent_token(tmp, database_url, base_url)
        auth = {"Authorization": f"Bearer {token}"}
        created: list[str] = []

        async def create(client: httpx2.AsyncClient, n: int) -> Any:
            answer = await client.post(
                "/spend_requests",
                json={
                    "amount": 1000 + (n % 40_000),
                    "merchant_name": "Bench Shop",
                    "merchant_url": "https://bench.example",
                    "context": CONTEXT.format(n=n),
                },
            )
            if answer.status_code == 200:
                created.append(answer.json()["id"])
            return answer

        async def retrieve(client: httpx2.AsyncClient, n: int) -> Any:
            return await client.get(f"/spend_requests/{created[n % len(created)]}")

        results = [
            asyncio.run(
                run_load(
                    f"{label}: GET /userinfo",
                    base_url,
                    seconds,
                    concurrency,
                    lambda c, _n: c.get("/userinfo"),
                    auth,
                )
            )
        ]
        results += [
            asyncio.run(run_load(f"{label}: create", base_url, seconds, concurrency, create, auth))
        ]
        if created:
            results.append(
                asyncio.run(
                    run_load(f"{label}: retrieve", base_url, seconds, concurrency, retrieve, auth)
                )
            )
        return results
    finally:
        stop(proc)


def _pg_database(admin_url: str) -> str | None:
    import psycopg

    name = f"linkpay_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"postgres skipped: {exc}".splitlines()[0], file=sys.stderr)
        return None
    return admin_url.rpartition("/")[0] + "/" + name


def _drop_pg(admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="maintenance DB to create from")
    args = parser.parse_args()

    tmp_root = Path(tempfile.mkdtemp(prefix="linkpay-bench-"))
    results: list[Result] = []
    try:
        results.append(bench_bare(tmp_root, args.seconds, args.concurrency))
        for db in args.databases.split(","):
            tmp = tmp_root / db
            tmp.mkdir()
            if db == "sqlite":
                results += bench_wallet(
                    tmp, "sqlite", f"sqlite:///{tmp / 'wallet.db'}", args.seconds, args.concurrency
                )
            elif db == "postgres":
                url = _pg_database(args.pg_url)
                if url is None:
                    continue
                try:
                    results += bench_wallet(tmp, "postgres", url, args.seconds, args.concurrency)
                finally:
                    _drop_pg(args.pg_url, url)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)

    bare = results[0].rps
    print(f"\n{'measurement':<26} {'req/s':>9} {'ok':>7} {'errors':>7} {'vs bare':>8}")
    for r in results:
        ratio = r.rps / bare if bare else 0.0
        print(f"{r.name:<26} {r.rps:>9.0f} {r.ok:>7} {r.errors:>7} {ratio:>7.1%}")
    print(
        f"\n{args.concurrency} concurrent keep-alive clients, {args.seconds:g} s each, "
        f"{os.cpu_count()} CPUs; client and servers share the machine."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
