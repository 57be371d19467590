"""Scale-out and hot-path benchmarks for the wallet (issue 11), with wrk and raw sockets.

Never run by the tests. Needs `wrk` (Debian: `apt-get install -y wrk`) for `throughput`
and `history`; `approval` and `burst` use a raw-socket client (no SDK, no httpx).

    .venv/bin/python bench/scale_bench.py throughput --rounds 3 --seconds 4
    .venv/bin/python bench/scale_bench.py approval --trials 200       # PostgreSQL
    .venv/bin/python bench/scale_bench.py burst --pollers 1000         # PostgreSQL
    .venv/bin/python bench/scale_bench.py burst --pollers 1000 --chunk 100
    .venv/bin/python bench/scale_bench.py history --rows 1000000       # PostgreSQL

Every server runs as `link-wallet serve --no-access-log` (or uvicorn for the bare
app, served the same way) in its own process(es); each throughput figure is divided
by the mean of a bare FastAPI endpoint measured right before and right after it, with
the same worker count and concurrency. Every wrk script counts the answers' statuses:
a run with any non-2xx answer, socket error or script error fails the bench (exit 1)
with the statuses and a sample body, instead of reporting a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wallet_bench import (  # noqa: E402
    BARE_APP,
    LINK_WALLET,
    POLICY_MAXIMA,
    _drop_pg,
    _pg_database,
    _wait_until_up,
    agent_token,
    stop,
)

from linkpay.serving import free_loopback_port  # noqa: E402

PG_ADMIN = os.environ.get("LINKPAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONTEXT = (
    "Buying the replacement kettle the person asked for this morning; the old one "
    "stopped heating and this model is the one they picked from the shop's page."
)


# -- servers -------------------------------------------------------------------------------
# The bare app runs the way `link-wallet serve` runs the wallet: uvicorn in-process for 1
# worker, `linkpay.serving.serve_workers` (uvicorn's supervisor, TCP_NODELAY on the shared
# socket) for more, so both sides get the same socket options.
BARE_LAUNCHER = """
import sys

import uvicorn

from linkpay.serving import serve_workers

if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    config = uvicorn.Config(
        "bare_app:app", port=port, workers=workers, access_log=False, log_level="warning"
    )
    if workers > 1:
        serve_workers(config)
    else:
        uvicorn.Server(config).run()
"""


def start_bare(tmp: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_loopback_port()
    (tmp / "bare_app.py").write_text(BARE_APP)
    (tmp / "bare_launcher.py").write_text(BARE_LAUNCHER)
    proc = subprocess.Popen(
        [sys.executable, "bare_launcher.py", str(port), str(workers)],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / f"bare-{port}.log", "wb"),  # noqa: SIM115
    )
    _wait_until_up(f"http://127.0.0.1:{port}/bare", proc)
    return proc, port


def start_wallet(tmp: Path, url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_loopback_port()
    env = {**os.environ, "LINKPAY_DATA_DIR": str(tmp), **POLICY_MAXIMA}
    proc = subprocess.Popen(
        [LINK_WALLET, "serve", "--port", str(port), "--database-url", url]
        + ["--workers", str(workers), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / f"wallet-{port}.log", "wb"),  # noqa: SIM115
    )
    _wait_until_up(f"http://127.0.0.1:{port}/openapi.json", proc, timeout=90)
    return proc, port


def local_store(tmp: Path, url: str) -> Any:
    from linkpay.wallet.app import open_store
    from linkpay.wallet.settings import Settings

    settings = Settings.from_env(data_dir=tmp, database_url=url)
    return settings, *open_store(settings)


# -- wrk -----------------------------------------------------------------------------------
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}

# Appended to every wrk script: count each answer's status per thread and print the
# totals, so a round can be checked for anything but 2xx (wrk itself counts only >= 400
# and ignores a script that fails to load, falling back to `GET /`).
STATUS_COUNTER = """
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
statuses = {}
sample = ""
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and sample == "" then
    sample = status .. " " .. string.sub(body, 1, 300)
  end
end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\\n", status, count))
  end
  for _, thread in ipairs(threads) do
    local text = thread:get("sample")
    if text ~= "" then
      io.write("sample " .. string.gsub(text, "\\n", " ") .. "\\n")
    end
  end
end
"""


class BadRound(Exception):
    """A wrk round that answered anything but 2xx, or did not run what it was told."""


def wrk(url: str, connections: int, seconds: float, script: str) -> dict[str, Any]:
    """One wrk run; raises `BadRound` on a script error, a socket error or a non-2xx."""
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{int(round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        script,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    out = done.stdout
    if done.returncode != 0 or done.stderr.strip():
        raise BadRound(f"wrk failed ({url}, {script}): {done.stderr.strip() or out}")
    statuses = {
        int(code): int(count) for code, count in re.findall(r"^status (\d+) (\d+)$", out, re.M)
    }
    if not statuses:
        raise BadRound(f"wrk counted no answers ({url}, {script}):\n{out}")
    socket_errors = re.search(r"Socket errors: (.*)", out)
    bad = {code: count for code, count in statuses.items() if not 200 <= code < 300}
    if bad or socket_errors:
        raise BadRound(
            f"{url} with {Path(script).name} at c={connections}: answers by status "
            f"{dict(sorted(statuses.items()))}; {socket_errors.group(0) if socket_errors else ''}"
            + "".join(f"\n  {line}" for line in re.findall(r"^sample (.*)$", out, re.M))
        )
    result: dict[str, Any] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found, out
        result[f"p{pct}"] = float(found.group(1)) * _UNITS[found.group(2)]
    result["answers"] = sum(statuses.values())
    return result


def _lua_string(text: str) -> str:
    """A Lua long-bracket string literal holding `text` verbatim (no escapes inside)."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua(tmp: Path, name: str, token: str | None = None, ids: list[str] | None = None) -> str:
    """A wrk script: `bare`, `retrieve` (cycling over `ids`) or `create`."""
    auth = f"local headers = {{Authorization = {_lua_string(f'Bearer {token}')}}}\n"
    if name == "bare":
        body = 'request = function()\n  return wrk.format("GET", "/bare")\nend\n'
    elif name == "retrieve":
        assert ids
        body = (
            auth + "local ids = {" + ",".join(_lua_string(i) for i in ids) + "}\nlocal n = 0\n"
            "request = function()\n  n = n + 1\n"
            '  return wrk.format("GET", "/spend_requests/" .. ids[(n % #ids) + 1], headers)\n'
            "end\n"
        )
    else:  # create: a different context every time, so duplicate protection stays out
        template = json.dumps(
            {
                "amount": 1200,
                "currency": "usd",
                "merchant_name": "Kettle Shop",
                "merchant_url": "https://kettles.example",
                "context": f"{CONTEXT} [{secrets.token_hex(3)}-@@]",
            }
        )
        body = (
            auth + 'headers["Content-Type"] = "application/json"\n'
            f"local template = {_lua_string(template)}\nlocal n = 0\n"
            "request = function()\n  n = n + 1\n"
            '  local body = template:gsub("@@", tid .. "-" .. n)\n'
            '  return wrk.format("POST", "/spend_requests", headers, body)\nend\n'
        )
    path = tmp / f"{name}.lua"
    path.write_text(body + STATUS_COUNTER)
    return str(path)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1%} ({min(values):.1%}–{max(values):.1%})"


def throughput(args: argparse.Namespace) -> None:
    setups = []
    if "sqlite" in args.databases:
        setups.append(("SQLite, 1 worker", "sqlite", 1))
    if "postgres" in args.databases:
        setups.append(("PostgreSQL, --workers 2", "postgres", 2))
    print(f"load average at start: {os.getloadavg()}", flush=True)
    for label, kind, workers in setups:
        tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
        url = f"sqlite:///{tmp}/wallet.db" if kind == "sqlite" else _pg_database(PG_ADMIN)
        assert url
        bare, bare_port = start_bare(tmp, workers)
        wallet, port = start_wallet(tmp, url, workers)
        try:
            token = agent_token(tmp, url, f"http://127.0.0.1:{port}")
            ids = _create_some(port, token, 50)
            bare_script = lua(tmp, "bare")
            for connections in args.concurrency:
                ratios: dict[str, list[float]] = {name: [] for name in args.endpoints}
                tails: dict[str, list[float]] = {name: [] for name in ["bare", *args.endpoints]}
                bares: list[float] = []
                for _ in range(args.rounds):
                    # Bare before and after each endpoint, and the ratio to their mean:
                    # on a shared box the load drifts within a round, and a bare figure
                    # taken only before would favour or penalise whatever runs after it.
                    before = wrk(
                        f"http://127.0.0.1:{bare_port}", connections, args.seconds, bare_script
                    )
                    for name in args.endpoints:
                        # Written afresh each run: create contexts never repeat one of an
                        # earlier run (duplicate protection would answer 429). Each create
                        # run is a new person's first: the bench lifts every count limit,
                        # so without that each run would also count the thousands of
                        # requests the runs before it left active, a backlog the default
                        # maximums never allow (200 active), and every run would measure
                        # a heavier create than the one before.
                        agent = token
                        if name == "create":
                            agent = agent_token(tmp, url, f"http://127.0.0.1:{port}")
                        script = lua(tmp, name, agent, ids)
                        got = wrk(f"http://127.0.0.1:{port}", connections, args.seconds, script)
                        after = wrk(
                            f"http://127.0.0.1:{bare_port}", connections, args.seconds, bare_script
                        )
                        base = (before["rps"] + after["rps"]) / 2
                        bares.append(base)
                        tails["bare"].append(before["p99"] / before["p50"])
                        ratios[name].append(got["rps"] / base)
                        tails[name].append(got["p99"] / got["p50"])
                        print(
                            f"  {label} c={connections} {name}: {got['rps']:.0f} req/s "
                            f"({got['answers']} answers, all 2xx) vs bare {base:.0f} "
                            f"({before['rps']:.0f} before, {after['rps']:.0f} after, p50 "
                            f"{before['p50']:.1f} ms); p50 {got['p50']:.1f} ms p99 "
                            f"{got['p99']:.1f} ms; load {os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
                        before = after
                print(
                    f"{label} c={connections} bare: median {statistics.median(bares):.0f} req/s "
                    f"({min(bares):.0f}–{max(bares):.0f})",
                    flush=True,
                )
                for name, values in ratios.items():
                    print(
                        f"{label} c={connections} {name}/bare: {spread(values)}; "
                        f"p99/p50 median {statistics.median(tails[name]):.1f}",
                        flush=True,
                    )
        finally:
            stop(wallet)
            stop(bare)
            if kind == "postgres":
                _drop_pg(PG_ADMIN, url)
    print(f"load average at end: {os.getloadavg()}", flush=True)


def _create_some(port: int, token: str, count: int) -> list[str]:
    import httpx2

    with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client:
        ids = []
        for n in range(count):
            body = {"amount": 1200, "merchant_name": "Kettle Shop"}
            body |= {"merchant_url": "https://kettles.example", "context": f"{CONTEXT} [{n}]"}
            answer = client.post(
                "/spend_requests", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            answer.raise_for_status()
            ids.append(answer.json()["id"])
        return ids


# -- raw-socket long-polls -----------------------------------------------------------------
async def long_poll(port: int, token: str, spend_request_id: str, ready: asyncio.Event) -> float:
    """Long-poll until the answer carries the card; return the wall time the whole of
    that answer (headers and `Content-Length` bytes of body) had arrived. A poll that
    times out (still pending after 30 s) is sent again at once, as an agent would."""
    while True:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"GET /spend_requests/{spend_request_id}?wait=30&last_status=pending_approval"
                f"&include=card HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        ready.set()
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        assert length is not None, head[:300]
        body = await reader.readexactly(int(length.group(1)))
        arrived = time.time()
        writer.close()
        if b'"approved"' in body and b'"number"' in body:
            return arrived
        assert b'"pending_approval"' in body, head[:300] + body[:300]


def workers_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `serve` and its worker processes so far, from /proc: in
    `burst`, from before the approvals start to the last answer (the workers idle while
    the approver works, bar the watcher and job loops), over the answers it gives the
    wallet's CPU per answer, a steadier figure than the wake's wall times."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if entry.name == str(pid) or int(fields[1]) == pid:  # `serve` or one of its workers
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def _pending(factory: Any, settings: Any, user_id: str, family: str, count: int) -> list[str]:
    from linkpay.wallet.auth.principal import AgentPrincipal
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.db import transaction
    from linkpay.wire import SpendRequestCreate

    principal = AgentPrincipal(
        user_id=user_id, token_family_id=family, client_id="bench", scopes=frozenset()
    )
    ids = []
    for n in range(count):
        body = SpendRequestCreate.model_validate(
            {"amount": 1200, "merchant_name": "Kettle Shop", "request_approval": True}
            | {"merchant_url": "https://kettles.example", "context": f"{CONTEXT} <{n}>"}
        )
        with transaction(factory) as s:
            row = service.create_spend_request(s, principal, body, settings=settings, notifier=None)
            ids.append(row.id)
    return ids


# The approver: its own process (as the person's browser or `link-wallet approve` would
# be), so its CPU work never delays this process reading the answers.
_APPROVER_STORE: Any = None


_COMMITS: list[float] = []


def _approver_init(tmp: str, url: str) -> None:
    from sqlalchemy import event

    global _APPROVER_STORE
    _APPROVER_STORE = local_store(Path(tmp), url)
    # The moment each COMMIT is sent (before PostgreSQL makes it visible and delivers
    # its NOTIFY), not when `transaction` returns after the after-commit hooks: a
    # poller's figure never leaves out any of the commit itself.
    event.listen(_APPROVER_STORE[1], "commit", lambda _conn: _COMMITS.append(time.time()))


def _approve_in_chunks(user_id: str, ids: list[str], chunk: int) -> list[tuple[float, float]]:
    """Approve `ids`, `chunk` per transaction; (started, COMMIT sent) wall times per chunk."""
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.db import transaction

    settings, _engine, factory = _APPROVER_STORE
    times = []
    for start in range(0, len(ids), chunk):
        began = time.time()
        _COMMITS.clear()
        with transaction(factory) as s:
            for spend_request_id in ids[start : start + chunk]:
                service.approve_spend_request(
                    s, user_id=user_id, spend_request_id=spend_request_id, settings=settings
                )
        assert len(_COMMITS) == 1, _COMMITS  # the approvals' one transaction
        times.append((began, _COMMITS[0]))
    return times


def _family(factory: Any, token: str) -> tuple[str, str]:
    from linkpay.wallet.auth.principal import principal_for_token
    from linkpay.wallet.store.db import transaction

    with transaction(factory) as s:
        principal = principal_for_token(s, token)
        assert principal is not None and principal.token_family_id is not None
        return principal.user_id, principal.token_family_id


async def approvals(args: argparse.Namespace, port: int, token: str, store: Any) -> None:
    settings, _engine, factory = store
    user_id, family = _family(factory, token)
    loop = asyncio.get_running_loop()
    approver = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_approver_init,
        initargs=(str(args.tmp), args.url),
    )
    with approver:
        await loop.run_in_executor(approver, _approve_in_chunks, user_id, [], 1)  # warm up
        if args.command == "approval":
            delays = []
            for _ in range(args.trials):
                [spend_id] = _pending(factory, settings, user_id, family, 1)
                ready = asyncio.Event()
                poll = asyncio.create_task(long_poll(port, token, spend_id, ready))
                await ready.wait()
                await asyncio.sleep(0.03)  # let the server register the waiter
                [(_began, committed)] = await loop.run_in_executor(
                    approver, _approve_in_chunks, user_id, [spend_id], 1
                )
                delays.append((await poll - committed) * 1000)
            print(
                f"approval (another process) -> credential on a --workers {args.workers} "
                f"wallet, {len(delays)} trials: p50 {percentile(delays, 50):.1f} ms, p95 "
                f"{percentile(delays, 95):.1f} ms, p99 {percentile(delays, 99):.1f} ms"
            )
            return
        ids = _pending(factory, settings, user_id, family, args.pollers)
        readies = [asyncio.Event() for _ in ids]
        polls = [
            asyncio.create_task(long_poll(port, token, i, r))
            for i, r in zip(ids, readies, strict=True)
        ]
        for ready in readies:
            await ready.wait()
        await asyncio.sleep(2)  # every waiter registered
        # The burst: `--chunk` approvals per transaction (default: all of them in one),
        # so each commit makes that many visible (and notified) at once. Each poller's
        # wake counts from the commit of the transaction that approved it.
        chunk = args.chunk or len(ids)
        cpu_before = workers_cpu_seconds(args.wallet_pid)
        times = await loop.run_in_executor(approver, _approve_in_chunks, user_id, ids, chunk)
        # Inside the `with`: its exit waits for the approver process, blocking this loop.
        arrivals = await asyncio.gather(*polls)
        wallet_cpu = workers_cpu_seconds(args.wallet_pid) - cpu_before
    delays = [(arrived - times[index // chunk][1]) * 1000 for index, arrived in enumerate(arrivals)]
    took = [committed - began for began, committed in times]
    print(
        f"{len(ids)} pollers, {chunk} approvals per commit ({len(times)} commits, "
        f"{statistics.median(took):.2f} s each (median), {times[-1][1] - times[0][0]:.1f} s "
        f"in all): wake p50 {percentile(delays, 50):.1f} ms, p95 {percentile(delays, 95):.1f} "
        f"ms, p99 {percentile(delays, 99):.1f} ms, max {max(delays):.1f} ms; wallet CPU "
        f"{1000 * wallet_cpu / len(ids):.2f} ms per answer"
    )


def cross_process(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    url = _pg_database(PG_ADMIN)
    assert url
    wallet, port = start_wallet(tmp, url, args.workers)
    try:
        token = agent_token(tmp, url, f"http://127.0.0.1:{port}")
        store = local_store(tmp, url)
        args.tmp, args.url, args.wallet_pid = tmp, url, wallet.pid
        asyncio.run(approvals(args, port, token, store))
        store[1].dispose()
    finally:
        stop(wallet)
        _drop_pg(PG_ADMIN, url)


# -- history -------------------------------------------------------------------------------
FILL = """
INSERT INTO spend_requests (id, user_id, token_family_id, status, credential_type, amount,
  currency, merchant_name, context, line_items, totals, metadata, test, version,
  created_at, updated_at)
SELECT 'lsrq_bench' || g, %(user)s, %(family)s, 'denied', 'card', 1200, 'usd', 'Kettle Shop',
  'history row ' || g, '[]', '[]', '{}', true, 1,
  now() - g * interval '1 second', now() - g * interval '1 second'
FROM generate_series(1, %(rows)s) AS g
"""


def history(args: argparse.Namespace) -> None:
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    url = _pg_database(PG_ADMIN)
    assert url
    wallet, port = start_wallet(tmp, url, 1)
    bare, bare_port = start_bare(tmp, 1)
    try:
        token = agent_token(tmp, url, f"http://127.0.0.1:{port}")
        store = local_store(tmp, url)
        user_id, family = _family(store[2], token)
        store[1].dispose()
        started = time.monotonic()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(FILL, {"user": user_id, "family": family, "rows": args.rows})
            conn.execute("ANALYZE spend_requests")
        print(f"{args.rows} rows inserted in {time.monotonic() - started:.0f} s")
        script = tmp / "history.lua"
        script.write_text(
            f"local token = {_lua_string(f'Bearer {token}')}\nrequest = function()\n"
            '  return wrk.format("GET", "/spend_requests?include_history=true&limit=20",'
            ' {["Authorization"] = token})\nend\n' + STATUS_COUNTER
        )
        bare_script = lua(tmp, "bare")
        for _ in range(args.rounds):
            base = wrk(f"http://127.0.0.1:{bare_port}", 1, args.seconds, bare_script)
            got = wrk(f"http://127.0.0.1:{port}", 1, args.seconds, str(script))
            print(
                f"history page of 20 of {args.rows} rows: p50 {got['p50']:.2f} ms, p99 "
                f"{got['p99']:.2f} ms (bare p50 {base['p50']:.2f} ms)",
                flush=True,
            )
    finally:
        stop(wallet)
        stop(bare)
        _drop_pg(PG_ADMIN, url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["throughput", "approval", "burst", "history"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument(
        "--endpoints", nargs="+", choices=["retrieve", "create"], default=["retrieve", "create"]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=0, help="burst: approvals per commit")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.update(POLICY_MAXIMA)  # this process creates requests too
    try:
        if args.command == "throughput":
            throughput(args)
        elif args.command == "history":
            history(args)
        else:
            cross_process(args)
    except BadRound as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
