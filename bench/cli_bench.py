"""link-cli start-up and polling benchmark (run by hand; never by the test suite).

    .venv/bin/python bench/cli_bench.py            # 20 runs each
    .venv/bin/python bench/cli_bench.py --runs 50

Measures, each in a fresh process started the way a shell would start it
(`.venv/bin/link-cli …`), wall time (median / p90 / min) and peak RSS (from wait4):

- `python -c pass`             — the interpreter alone (the floor),
- `link-cli --version`         — the fast path (no pydantic, httpx2, rich, mcp, yaml, toon),
- `link-cli spend-request retrieve ID --format json` against a running wallet,
- `link-cli --help`            — the full command tree built from the registry.

Then the approval latency seen by `spend-request retrieve ID --interval 20 --format
jsonl` (long-poll): time from the person's approval to the CLI printing `approved`.
The wallet is an embedded one (temporary SQLite) in this process.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONTEXT = (
    "Benchmark purchase: one blue ceramic coffee mug for the person's kitchen, as they "
    "asked in chat; nothing else is in the basket."
)


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, float]:
    """Wall time (s), peak RSS (KB), exit code and CPU time (user+sys, s; less
    sensitive than wall time to other load on the box) of one fresh process. RSS comes from
    /usr/bin/time when present: wait4 on a child forked from this (large, wallet-holding)
    process would report the parent's pages."""
    timer = ["/usr/bin/time", "-f", "%M %U %S"] if os.path.exists("/usr/bin/time") else []
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*timer, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    peak_kb, cpu = 0, 0.0
    if timer:
        rss, user, system = err.strip().splitlines()[-1].split()
        peak_kb, cpu = int(rss), float(user) + float(system)
    return elapsed, peak_kb, proc.returncode, cpu


def measure(label: str, argv: list[str], env: dict[str, str], runs: int) -> None:
    run_once(argv, env)  # warm the page cache / .pyc files
    times, rss, cpus, codes = [], [], [], set()
    for _ in range(runs):
        elapsed, peak_kb, code, cpu = run_once(argv, env)
        times.append(elapsed * 1000)
        cpus.append(cpu * 1000)
        rss.append(peak_kb / 1024)
        codes.add(code)
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(
        f"{label:<44} median {statistics.median(times):6.1f} ms  p90 {p90:6.1f} ms  "
        f"min {times[0]:6.1f} ms  CPU {statistics.median(cpus):5.0f} ms  "
        f"peak RSS {max(rss):5.1f} MB  exit {sorted(codes)}"
    )


def approval_latency(wallet, user_id: str, env: dict[str, str], rounds: int) -> None:  # type: ignore[no-untyped-def]
    samples = []
    for index in range(rounds):
        created = subprocess.run(
            [
                str(BIN / "link-cli"),
                "spend-request",
                "create",
                "-m",
                "Bench Mugs",
                "--merchant-url",
                "https://mugs.example",
                "--amount",
                str(1000 + index),
                "--context",
                CONTEXT,
                "--request-approval",
                "--format",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        spend_id = json.loads(created.stdout)["id"]
        proc = subprocess.Popen(
            [
                str(BIN / "link-cli"),
                "spend-request",
                "retrieve",
                spend_id,
                "--interval",
                "20",
                "--format",
                "jsonl",
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(proc.stdout.readline())["status"] == "pending_approval"
        watcher = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the CLI's long-poll is waiting
            watcher = getattr(wallet.app.state, "spend_request_watcher", None)
            if watcher is not None and watcher._waiters.get(spend_id):
                break
            time.sleep(0.005)
        approved_at = time.perf_counter()
        wallet.approve(spend_id, user_id)
        line = json.loads(proc.stdout.readline())
        samples.append((time.perf_counter() - approved_at) * 1000)
        assert line["status"] == "approved", line
        proc.wait(timeout=30)
    samples.sort()
    print(
        f"{'approval → CLI prints approved (long-poll)':<44} median "
        f"{statistics.median(samples):6.1f} ms  max {samples[-1]:6.1f} ms  ({rounds} rounds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--latency-rounds", type=int, default=5)
    args = parser.parse_args()

    from linkpay.client.tokens import Tokens, TokenStore
    from linkpay.wallet.embedded import start_embedded_wallet

    with start_embedded_wallet() as wallet, tempfile.TemporaryDirectory() as tmp:
        user_id = wallet.create_user("bench@example.com", "Bench Person")
        wallet.add_test_card(user_id)
        auth_file = Path(tmp) / "auth.json"
        TokenStore(auth_file, env={}).save(Tokens.from_token_response(wallet.agent_login(user_id)))
        env = {
            **os.environ,
            "LINK_API_BASE_URL": wallet.base_url,
            "LINK_AUTH_BASE_URL": wallet.base_url,
            "LINK_AUTH_FILE": str(auth_file),
            "NO_UPDATE_NOTIFIER": "1",
        }
        created = subprocess.run(
            [
                str(BIN / "link-cli"),
                "spend-request",
                "create",
                "-m",
                "Bench Mugs",
                "--merchant-url",
                "https://mugs.example",
                "--amount",
                "999",
                "--context",
                CONTEXT,
                "--format",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        spend_id = json.loads(created.stdout)["id"]
        print(f"link-cli start-up, {args.runs} runs each, wallet at {wallet.base_url}")
        measure("python -c pass", [sys.executable, "-c", "pass"], env, args.runs)
        measure("link-cli --version", [str(BIN / "link-cli"), "--version"], env, args.runs)
        measure(
            "link-cli spend-request retrieve ID",
            [str(BIN / "link-cli"), "spend-request", "retrieve", spend_id, "--format", "json"],
            env,
            args.runs,
        )
        measure("link-cli --help", [str(BIN / "link-cli"), "--help"], env, args.runs)
        approval_latency(wallet, user_id, env, args.latency_rounds)


if __name__ == "__main__":
    main()
