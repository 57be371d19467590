"""schemathesis over the whole /openapi.json of a real wallet: no server errors, answers
as documented (see bench/README.md, "fuzz_api.py").

    .venv/bin/python bench/fuzz_api.py                        # SQLite, >= 5,000 cases
    .venv/bin/python bench/fuzz_api.py --databases sqlite,postgres
    .venv/bin/python bench/fuzz_api.py --max-examples 5 --min-cases 300   # a quick look
    .venv/bin/python bench/fuzz_api.py --database-url URL     # an existing, migrated one

For each database: starts `link-wallet serve` in its own process, makes a person with a
test card and raised limits, logs an agent in through the real device flow (all three
scopes, so delegated creates are reached), registers a test-network merchant, and seeds
a pending and an approved spend request and a succeeded payment intent whose ids the
path parameters use (random ids only ever reach the 404 branch). Then runs the
schemathesis CLI (`st run`, every phase: examples, coverage, fuzzing, stateful) with
the agent's bearer token, and the merchant's key on `/v1/…`.

Checks: all of schemathesis' except `positive_data_acceptance` (some schema-valid input
breaks rules a schema can't state: limits, deadlines, another person's ids) and
`negative_data_rejection` (some "invalid" query values serialize to valid strings).
From the run's NDJSON report it prints the cases, the status codes per operation, the
server errors and the failed checks, and exits 1 if there were any failures or server
errors, or fewer cases than --min-cases.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import wallet_bench  # same directory: server start/stop and PostgreSQL helpers

from linkpay.serving import free_loopback_port

ST = str(Path(sys.executable).with_name("st"))
SCOPES = "userinfo:read payment_methods.agentic spend_requests:approve"
EXCLUDED_CHECKS = "positive_data_acceptance,negative_data_rejection"
CONTEXT = (
    "Fuzzing the wallet: buying one box of printer paper for the home office, as the "
    "person asked this morning; the price was checked on the shop's page."
)


@dataclass
class Seeded:
    """What the wallet under test holds before the run."""

    token: str
    merchant_key: str
    pending_id: str
    approved_id: str
    intent_id: str


@dataclass
class Outcome:
    cases: int = 0
    server_errors: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    exit_code: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.server_errors and not self.failures


# -- the wallet under test -----------------------------------------------------------------
def seed(tmp: Path, database_url: str, base_url: str) -> Seeded:
    from linkpay.wallet import accounts
    from linkpay.wallet.app import open_store
    from linkpay.wallet.auth.device import approve_device_grant
    from linkpay.wallet.network.merchants import create_merchant
    from linkpay.wallet.policy import edit
    from linkpay.wallet.policy.limits import DEFAULT_MAXIMUMS, Limits
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.spend.service import approve_spend_request
    from linkpay.wallet.store.db import transaction

    settings = Settings.from_env(data_dir=tmp, database_url=database_url)
    engine, factory = open_store(settings)
    try:
        with transaction(factory) as s:
            user = accounts.create_user(s, email=f"fuzz-{secrets.token_hex(3)}@example.com")
            accounts.add_test_card(s, user_id=user.id)
            merchant, merchant_key = create_merchant(
                s, name="Fuzz Shop", url="https://shop.example"
            )
            user_id, network_id = user.id, merchant.network_id
        raised = dict.fromkeys(wallet_bench.RAISED_LIMITS, wallet_bench.UNLIMITED)
        with transaction(factory) as s:
            edit.set_limits(
                s,
                user_id,
                raised,
                maximum=Limits(**{**DEFAULT_MAXIMUMS.as_dict(), **raised}),
                actor="fuzz",
                confirmed_by="fuzz",
            )
        with httpx2.Client(base_url=base_url, timeout=30) as client:
            code = client.post("/device/code", data={"client_id": "fuzz", "scope": SCOPES})
            code.raise_for_status()
            with transaction(factory) as s:
                approve_device_grant(s, user_id=user_id, user_code=code.json()["user_code"])
            answer = client.post(
                "/device/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code": code.json()["device_code"],
                    "client_id": "fuzz",
                },
            )
            answer.raise_for_status()
            token = str(answer.json()["access_token"])
            agent = {"Authorization": f"Bearer {token}"}

            def create(**body: Any) -> str:
                payload = {"amount": 2500, "currency": "usd", "context": CONTEXT, **body}
                made = client.post("/spend_requests", json=payload, headers=agent)
                if made.status_code not in (200, 201):
                    raise RuntimeError(f"seeding: {made.status_code} {made.text}")
                return str(made.json()["id"])

            card = {"merchant_name": "Fuzz Shop", "merchant_url": "https://shop.example/cart"}
            pending_id = create(**card, request_approval=True)
            approved_id = create(**card, request_approval=True, amount=2600)
            token_request = create(
                credential_type="shared_payment_token", network_id=network_id, request_approval=True
            )
            for request_id in (approved_id, token_request):
                with transaction(factory) as s:
                    approve_spend_request(
                        s, user_id=user_id, spend_request_id=request_id, settings=settings
                    )
            shared = client.get(
                f"/spend_requests/{token_request}",
                params={"include": "shared_payment_token"},
                headers=agent,
            ).json()["shared_payment_token"]["id"]
            intent = client.post(
                "/v1/payment_intents",
                data={
                    "amount": "2500",
                    "currency": "usd",
                    "shared_payment_granted_token": shared,
                    "confirm": "true",
                },
                headers={"Authorization": f"Bearer {merchant_key}"},
            )
            if intent.status_code != 200:
                raise RuntimeError(f"seeding: {intent.status_code} {intent.text}")
    finally:
        engine.dispose()
    return Seeded(token, merchant_key, pending_id, approved_id, str(intent.json()["id"]))


def write_config(path: Path, seeded: Seeded) -> None:
    """The schemathesis config: who calls what, and the ids the path parameters take."""
    path.write_text(
        f"""
[headers]
Authorization = "Bearer {seeded.token}"

[[operations]]
include-path-regex = "^/v1/"
headers = {{ Authorization = "Bearer {seeded.merchant_key}" }}
parameters = {{ intent_id = "{seeded.intent_id}" }}

[[operations]]
include-path-regex = "^/spend_requests/[{{]spend_request_id[}}]/cancel$"
parameters = {{ spend_request_id = "{seeded.approved_id}" }}

[[operations]]
include-path-regex = "^/spend_requests/[{{]spend_request_id[}}](/request_approval)?$"
parameters = {{ spend_request_id = "{seeded.pending_id}" }}
""",
        encoding="utf-8",
    )


# -- the run -------------------------------------------------------------------------------
def run_schemathesis(base_url: str, config: Path, reports: Path, args: Any) -> Outcome:
    command = [
        ST,
        "--config-file",
        str(config),
        "run",
        f"{base_url}/openapi.json",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--workers",
        str(args.workers),
        "--report",
        "ndjson",
        "--report-dir",
        str(reports),
        "--no-color",
        "--request-timeout",
        "30",
    ]
    if args.phases:
        command += ["--phases", args.phases]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    started = time.monotonic()
    # In the run's own directory: st keeps a cache (.schemathesis/) where it runs.
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=reports.parent)
    outcome = read_report(next(reports.glob("*.ndjson")))
    outcome.exit_code = done.returncode
    outcome.seconds = time.monotonic() - started
    if not outcome.ok or args.verbose:
        print(done.stdout[-20000:])
        print(done.stderr[-5000:], file=sys.stderr)
    return outcome


def read_report(path: Path) -> Outcome:
    """Cases, status codes, server errors and failed checks from the NDJSON report."""
    outcome = Outcome()
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        outcome.cases += len(recorder.get("cases", {}))
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check["status"] == "failure":
                    outcome.failures[f"{check['name']}: {recorder['label']}"] += 1
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response")
            if response is None:
                continue
            request = interaction["request"]
            status = int(response["status_code"])
            outcome.statuses[recorder["label"]][status] += 1
            if status >= 500:
                body = response.get("content", {}).get("$base64", "")
                text = base64.b64decode(body).decode(errors="replace")[:300] if body else ""
                outcome.server_errors.append(
                    f"{status} {request['method']} {request['uri']}: {text}"
                )
    return outcome


def fuzz_database(name: str, database_url: str, tmp: Path, args: Any) -> Outcome:
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = wallet_bench.start_wallet(tmp, database_url, port)
    try:
        seeded = seed(tmp, database_url, base_url)
        config = tmp / "schemathesis.toml"
        write_config(config, seeded)
        reports = tmp / "reports"
        outcome = run_schemathesis(base_url, config, reports, args)
    finally:
        wallet_bench.stop(proc)
    report(name, outcome, tmp / "wallet.log")
    return outcome


def report(name: str, outcome: Outcome, log: Path) -> None:
    total: Counter[int] = Counter()
    for statuses in outcome.statuses.values():
        total.update(statuses)
    classes = Counter(f"{status // 100}xx" for status in total.elements())
    print(
        f"\n{name}: {outcome.cases:,} cases, {sum(total.values()):,} requests over "
        f"{len(outcome.statuses)} operations in {outcome.seconds:.0f} s; "
        f"server errors: {len(outcome.server_errors)}; "
        f"failed checks: {sum(outcome.failures.values())}; st exit {outcome.exit_code}"
    )
    print("  statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(classes.items())))
    for label in sorted(outcome.statuses):
        codes = outcome.statuses[label]
        print(f"  {label:<52} " + " ".join(f"{c}:{n}" for c, n in sorted(codes.items())))
    for line in outcome.server_errors[:20]:
        print(f"  SERVER ERROR {line}")
    for failure, count in outcome.failures.most_common(20):
        print(f"  FAILED {failure} ×{count}")
    if outcome.server_errors and log.exists():
        tracebacks = [ln for ln in log.read_text(errors="replace").splitlines() if "Error" in ln]
        print("  wallet log, error lines:\n    " + "\n    ".join(tracebacks[-30:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite", help="sqlite,postgres")
    parser.add_argument("--database-url", help="fuzz this (migrated) database instead")
    parser.add_argument("--pg-url", default=wallet_bench.DEFAULT_PG)
    parser.add_argument("--max-examples", type=int, default=200, help="per operation")
    parser.add_argument("--min-cases", type=int, default=5000, help="fail below this")
    parser.add_argument("--phases", default="", help="default: all schemathesis phases")
    parser.add_argument("--workers", default="2", help="schemathesis workers")
    parser.add_argument("--seed", type=int, help="schemathesis seed, to reproduce a run")
    parser.add_argument("--verbose", action="store_true", help="print st's own report")
    parser.add_argument("--keep", action="store_true", help="keep the reports and logs")
    args = parser.parse_args()

    tmp_root = Path(tempfile.mkdtemp(prefix="linkpay-fuzz-"))
    outcomes: list[Outcome] = []
    try:
        if args.database_url:
            (tmp_root / "given").mkdir()
            outcomes.append(fuzz_database("given", args.database_url, tmp_root / "given", args))
        for db in [] if args.database_url else args.databases.split(","):
            tmp = tmp_root / db
            tmp.mkdir()
            if db == "sqlite":
                outcomes.append(fuzz_database(db, f"sqlite:///{tmp / 'wallet.db'}", tmp, args))
                continue
            url = wallet_bench._pg_database(args.pg_url)
            if url is None:
                return 1
            try:
                outcomes.append(fuzz_database(db, url, tmp, args))
            finally:
                wallet_bench._drop_pg(args.pg_url, url)
    finally:
        if args.keep:
            print(f"\nreports and wallet logs kept in {tmp_root}")
        else:
            shutil.rmtree(tmp_root, ignore_errors=True)
    short = [o for o in outcomes if o.cases < args.min_cases]
    if short:
        print(f"\nfewer than {args.min_cases:,} cases in a run", file=sys.stderr)
    return 0 if outcomes and all(o.ok for o in outcomes) and not short else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
