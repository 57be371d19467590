"""How fast could a create be on this stack? A floor for the wallet's create figures.

    .venv/bin/python bench/create_floor_bench.py [--rounds 3] [--seconds 4]

One uvicorn process (1 worker, served as `scale_bench.py` serves its bare app) with three
routes, measured with wrk in the same rounds:

- `GET /bare`: the bare endpoint `scale_bench.py throughput` divides by, a sync route
  (FastAPI runs it in a worker thread through `anyio.to_thread`);
- `GET /bare_async`: the same as an `async` route (no thread hop);
- `POST /spend_requests`: the least a create can be. FastAPI parses and validates the
  wallet's own wire body (`SpendRequestCreate`), one row goes into a WAL SQLite file
  through `sqlite3` (no ORM, no policy, no audit), the transaction commits, and the
  body comes back as JSON. The same wrk script as the wallet's create.

Prints each round and the median (min–max) of: minimal create / sync bare, minimal create
/ async bare, async bare / sync bare. The wallet's own create is in `scale_bench.py
throughput --endpoints create` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_bench import BARE_LAUNCHER, lua, spread, wrk  # noqa: E402
from wallet_bench import _wait_until_up, stop  # noqa: E402

from linkpay.serving import free_loopback_port  # noqa: E402

FLOOR_APP = """
import json
import os
import secrets
import sqlite3
import threading

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from linkpay.wire import SpendRequestCreate

app = FastAPI()
_connections = threading.local()
_writer = threading.Lock()  # one writer at a time, as the wallet queues its own


def _connection() -> sqlite3.Connection:
    connection = getattr(_connections, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["FLOOR_DB"], isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, body TEXT)")
        _connections.connection = connection
    return connection


@app.get("/bare")
def bare() -> dict[str, bool]:
    return {"ok": True}


@app.get("/bare_async")
async def bare_async() -> dict[str, bool]:
    return {"ok": True}


@app.post("/spend_requests")
def create(body: SpendRequestCreate) -> JSONResponse:
    connection = _connection()
    spend_request_id = "lsrq_" + secrets.token_hex(12)
    values = body.model_dump(mode="json", exclude_none=True)
    with _writer:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO requests VALUES (?, ?)", (spend_request_id, json.dumps(values))
        )
        connection.execute("COMMIT")
    return JSONResponse({"id": spend_request_id, **values})
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="create-floor-"))
    (tmp / "bare_app.py").write_text(FLOOR_APP)
    (tmp / "bare_launcher.py").write_text(BARE_LAUNCHER)
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "bare_launcher.py", str(port), "1"],
        cwd=tmp,
        env={**os.environ, "FLOOR_DB": str(tmp / "floor.db")},
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "floor.log", "wb"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/bare", server)
        bare = lua(tmp, "bare")
        bare_async = tmp / "bare_async.lua"
        bare_async.write_text(Path(bare).read_text().replace('"/bare"', '"/bare_async"'))
        print(f"load average at start: {os.getloadavg()}", flush=True)
        for connections in args.concurrency:
            names = ("create/sync", "create/async", "async/sync")
            ratios: dict[str, list[float]] = {name: [] for name in names}
            for _ in range(args.rounds):
                sync_rps = wrk(url, connections, args.seconds, bare)["rps"]
                async_rps = wrk(url, connections, args.seconds, str(bare_async))["rps"]
                # a new context each run: the same script as the wallet's create
                create_rps = wrk(url, connections, args.seconds, lua(tmp, "create", "x", []))["rps"]
                ratios["create/sync"].append(create_rps / sync_rps)
                ratios["create/async"].append(create_rps / async_rps)
                ratios["async/sync"].append(async_rps / sync_rps)
                print(
                    f"  c={connections}: sync bare {sync_rps:.0f} req/s, async bare "
                    f"{async_rps:.0f}, minimal create {create_rps:.0f}; load "
                    f"{os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            for name, values in ratios.items():
                print(f"c={connections} {name}: {spread(values)}", flush=True)
    finally:
        stop(server)
    print(f"load average at end: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
