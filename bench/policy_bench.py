"""What the person's policy costs per create: spend-request create throughput with no
rules, with 20 rules (evaluation only), and with 20 rules + 3 budgets approving
automatically (evaluation + ledger reservation + credential), next to a bare FastAPI
endpoint, in the same run (see bench/README.md).

    .venv/bin/python bench/policy_bench.py [--seconds 3] [--rounds 3] [--concurrency 8]
    .venv/bin/python bench/policy_bench.py --cpu 200 --rounds 5   # CPU time per create

One `link-wallet serve` process on a fresh SQLite file (PostgreSQL with --pg-url and
--databases postgres); this process only generates load (httpx2, asyncio, keep-alive).
Also times the pure rule evaluation in-process (no HTTP, no database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from wallet_bench import (
    CONTEXT,
    DEFAULT_PG,
    RAISED_LIMITS,
    UNLIMITED,
    _drop_pg,
    _pg_database,
    agent_token,
    bench_bare,
    run_load,
    start_wallet,
    stop,
)

from linkpay.serving import free_loopback_port

HUGE = 1_000_000_000


def twenty_rules(last_action: str) -> list[dict[str, Any]]:
    """19 rules that never match the bench requests, then one that does (with a
    per-day count, so the history query runs too)."""
    rules: list[dict[str, Any]] = []
    for n in range(1, 20):
        kind = n % 4
        when: dict[str, Any]
        if kind == 0:
            when = {"merchants": [f"*.blocked{n}.example", f"shop{n}.example"]}
        elif kind == 1:
            when = {"agents": [f"fam_other_{n}"]}
        elif kind == 2:
            when = {"amount_at_least": HUGE - n}
        else:
            when = {"credential_types": ["shared_payment_token"], "line_items_at_least": 50}
        rules.append({"id": f"r{n}", "action": "deny", "when": when})
    rules.append(
        {
            "id": "r20",
            "action": last_action,
            "when": {
                "merchants": ["*.example", "bench.example"],
                "amount_at_most": HUGE,
                "count": {"max": 10_000, "period": "day"},
            },
        }
    )
    return rules


def set_policy(tmp: Path, database_url: str, email: str, rules: list[Any], budgets: bool) -> None:
    from linkpay.wallet import accounts
    from linkpay.wallet.app import open_store
    from linkpay.wallet.policy import edit
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.store.db import transaction

    settings = Settings.from_env(data_dir=tmp, database_url=database_url)
    engine, factory = open_store(settings)
    with transaction(factory) as db:
        user = accounts.find_user_by_email(db, email)
        assert user is not None
        edit.set_rules(db, user.id, rules, actor="bench", confirmed_by="bench")
        if budgets:
            edit.set_budgets(
                db,
                user.id,
                [{"id": f"b{p}", "period": p, "amount": HUGE} for p in ("day", "week", "month")],
                actor="bench",
                confirmed_by="bench",
            )
    engine.dispose()


def scenario_token(
    tmp: Path, database_url: str, base_url: str, rules: list[Any], budgets: bool
) -> str:
    token = agent_token(tmp, database_url, base_url)
    email = httpx2.get(f"{base_url}/userinfo", headers={"Authorization": f"Bearer {token}"})
    set_policy(tmp, database_url, email.json()["email"], rules, budgets)
    return token


def eval_micro(iterations: int = 20_000) -> float:
    """Microseconds per evaluation of the 20 rules (pure, in-process)."""
    from datetime import UTC, datetime

    from linkpay.wallet.policy.periods import zone
    from linkpay.wallet.policy.rules import Facts, evaluate, parse_rules

    rules = parse_rules(twenty_rules("require_approval"))
    facts = Facts(1500, "usd", "card", "bench.example", "fam_bench", 1, datetime.now(UTC))
    tz = zone("UTC")
    started = time.perf_counter()
    for _ in range(iterations):
        evaluate(rules, facts, tz=tz, count=lambda *_a: 0)
    return (time.perf_counter() - started) / iterations * 1e6


def cpu_per_create(database_url: str, tmp: Path, creates: int, rounds: int) -> dict[str, float]:
    """Median CPU microseconds of this process per create, no rules vs 20 rules (asks the
    person), calling the spend service in-process (no HTTP): on a busy box CPU time
    moves far less than throughput does. SQLite's work is in-process and counted;
    PostgreSQL's server work is not."""
    from linkpay.wallet import accounts
    from linkpay.wallet.app import open_store
    from linkpay.wallet.auth.principal import AgentPrincipal
    from linkpay.wallet.policy import edit
    from linkpay.wallet.policy.limits import DEFAULT_MAXIMUMS, Limits
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.db import transaction
    from linkpay.wallet.store.migrations import upgrade_to_head
    from linkpay.wire import SpendRequestCreate

    upgrade_to_head(database_url)
    settings = Settings.from_env(data_dir=tmp, database_url=database_url)
    engine, factory = open_store(settings)
    raised = dict.fromkeys(RAISED_LIMITS, UNLIMITED)
    principals = {}
    for name, rules in (("no rules", []), ("20 rules", twenty_rules("require_approval"))):
        with transaction(factory) as s:
            user = accounts.create_user(s, email=f"cpu-{name[:2]}-{time.time_ns()}@example.com")
            accounts.add_test_card(s, user_id=user.id)
            maximum = Limits(**{**DEFAULT_MAXIMUMS.as_dict(), **raised})
            edit.set_limits(
                s, user.id, raised, maximum=maximum, actor="bench", confirmed_by="bench"
            )
            if rules:
                edit.set_rules(s, user.id, rules, actor="bench", confirmed_by="bench")
            family = f"fam_{name[:2]}"
            principals[name] = AgentPrincipal(user.id, family, "bench", frozenset())
    samples: dict[str, list[float]] = {name: [] for name in principals}
    counter = 0
    for _round in range(rounds + 1):  # the first round warms caches and is dropped
        for name, principal in principals.items():
            started = time.process_time()
            for _ in range(creates):
                counter += 1
                body = SpendRequestCreate.model_validate(
                    {"amount": 1000 + counter % 4000, "merchant_name": "Bench Shop"}
                    | {"merchant_url": "https://bench.example"}
                    | {"context": CONTEXT.format(n=f"cpu-{counter}")}
                )
                with transaction(factory) as s:
                    service.create_spend_request(
                        s, principal, body, settings=settings, notifier=None
                    )
            if _round:
                samples[name].append((time.process_time() - started) / creates * 1e6)
    engine.dispose()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--cpu", type=int, default=0, metavar="N", help="only CPU time per create, N a round"
    )
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    print(f"pure evaluation of 20 rules: {eval_micro():.1f} µs")
    if args.cpu:
        for kind in args.databases.split(","):
            tmp = Path(tempfile.mkdtemp(prefix="policy-cpu-"))
            sqlite = f"sqlite:///{tmp / 'wallet.db'}"
            url = sqlite if kind == "sqlite" else _pg_database(args.pg_url)
            if url is None:
                continue
            try:
                cpu = cpu_per_create(url, tmp, args.cpu, args.rounds)
            finally:
                if kind != "sqlite":
                    _drop_pg(args.pg_url, url)
                shutil.rmtree(tmp, ignore_errors=True)
            extra = cpu["20 rules"] / cpu["no rules"] - 1
            print(
                f"{kind}: CPU per create (this process, median of {args.rounds} rounds of "
                f"{args.cpu}): no rules {cpu['no rules']:.0f} µs, 20 rules "
                f"{cpu['20 rules']:.0f} µs ({extra:+.1%})"
            )
        return 0
    for kind in args.databases.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="policy-bench-"))
        url = f"sqlite:///{tmp / 'wallet.db'}" if kind == "sqlite" else _pg_database(args.pg_url)
        if url is None:
            continue
        port = free_loopback_port()
        base_url = f"http://127.0.0.1:{port}"
        proc = start_wallet(tmp, url, port)
        try:
            scenarios = {
                "no rules (asks the person)": scenario_token(tmp, url, base_url, [], False),
                "20 rules (asks the person)": scenario_token(
                    tmp, url, base_url, twenty_rules("require_approval"), False
                ),
                "1 rule, auto-approve (reserve + card)": scenario_token(
                    tmp, url, base_url, [{"id": "all", "action": "auto_approve"}], False
                ),
                "20 rules + 3 budgets, auto-approve (reserve + card)": scenario_token(
                    tmp, url, base_url, twenty_rules("auto_approve"), True
                ),
            }
            figures: dict[str, list[float]] = {"bare FastAPI GET": []}
            for _round in range(args.rounds):
                figures["bare FastAPI GET"].append(
                    bench_bare(tmp, args.seconds, args.concurrency).rps
                )
                for name, token in scenarios.items():

                    async def create(client: httpx2.AsyncClient, n: int) -> Any:
                        return await client.post(
                            "/spend_requests",
                            json={
                                "amount": 1000 + (n % 4000),
                                "merchant_name": "Bench Shop",
                                "merchant_url": "https://bench.example",
                                "context": CONTEXT.format(n=f"{n}-{time.time_ns()}"),
                            },
                        )

                    result = asyncio.run(
                        run_load(
                            name,
                            base_url,
                            args.seconds,
                            args.concurrency,
                            create,
                            {"Authorization": f"Bearer {token}"},
                        )
                    )
                    if result.errors:
                        print(f"  {name}: {result.errors} errors")
                    figures.setdefault(name, []).append(result.rps)
        finally:
            stop(proc)
            if kind != "sqlite":
                _drop_pg(args.pg_url, url)
            shutil.rmtree(tmp, ignore_errors=True)
        base = statistics.median(figures["no rules (asks the person)"])
        print(f"\n{kind}: creates/s, median of {args.rounds} rounds [min–max]")
        for name, values in figures.items():
            med = statistics.median(values)
            extra = "" if name.startswith("bare") else f"  cost vs no rules {base / med - 1:+.0%}"
            print(f"  {name:55s} {med:8.1f} [{min(values):.1f}–{max(values):.1f}]{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
