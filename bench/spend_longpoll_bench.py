"""Spend request long-poll benchmark (run by hand; never by the test suite).

    .venv/bin/python bench/spend_longpoll_bench.py                  # SQLite, 20 rounds
    .venv/bin/python bench/spend_longpoll_bench.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/spend_longpoll_bench.py --idle-waiters 1000

Measures, against an embedded wallet (this process; a fresh database), the time from
an approval's COMMIT to the first byte of the `GET /spend_requests/{id}?wait=30`
answer, read with a plain socket (so no client library adds its own delays):

1. approval made by another process (a helper that approves on the same database):
   the path several worker processes rely on (the watcher's database polling);
2. approval made in this process (in-process wake-up after commit);
3. both again while N other long-polls sit idle, plus the CPU the wallet process
   burns per second with those N waiters open (should stay near idle).

With PostgreSQL the given URL is used as an admin URL: a fresh database is created on
that server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

CONTEXT = (
    "Benchmark purchase: one blue ceramic coffee mug for the person's kitchen, as they "
    "asked in chat; nothing else is in the basket, shipping is free."
)

APPROVER = textwrap.dedent(
    """
    import sys, time
    from linkpay.wallet.settings import Settings
    from linkpay.wallet.store.db import make_engine, make_sessionmaker, transaction
    from linkpay.wallet.spend import service
    url, data_dir, user_id = sys.argv[1:4]
    settings = Settings.from_env(database_url=url, data_dir=data_dir)
    factory = make_sessionmaker(make_engine(url))
    print("ready", flush=True)
    for line in sys.stdin:
        with transaction(factory) as session:
            service.approve_spend_request(
                session, user_id=user_id, spend_request_id=line.strip(), settings=settings
            )
        print(repr(time.time()), flush=True)
    """
)


def body() -> dict[str, Any]:
    return {
        "amount": 1200,
        "merchant_name": "Mug Shop",
        "merchant_url": "https://mugs.example",
        "context": f"{CONTEXT} [{secrets.token_hex(4)}]",
        "request_approval": True,
    }


class RawWait:
    """`GET /spend_requests/{id}?wait=30` on a plain socket, in a thread."""

    def __init__(self, port: int, token: str, spend_request_id: str) -> None:
        self.first_byte_at = 0.0
        self.data = b""
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.sendall(
            (
                f"GET /spend_requests/{spend_request_id}?wait=30 HTTP/1.1\r\nHost: bench\r\n"
                f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self._sock.recv(65536):
            if not self.data:
                self.first_byte_at = time.time()
            self.data += chunk
        self._sock.close()

    def join(self) -> None:
        self._thread.join(40)


def wait_until_watching(wallet: Any, ids: list[str]) -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        watcher = getattr(wallet.app.state, "spend_request_watcher", None)
        if watcher is not None and all(i in watcher._waiters for i in ids):
            return
        time.sleep(0.002)
    raise SystemExit("long-polls never started waiting")


def summary(label: str, values_ms: list[float]) -> None:
    values_ms.sort()
    p90 = values_ms[int(0.9 * (len(values_ms) - 1))]
    print(
        f"{label:<48} median {statistics.median(values_ms):6.1f} ms   p90 {p90:6.1f} ms   "
        f"max {values_ms[-1]:6.1f} ms   (n={len(values_ms)})"
    )


def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, "tests")
    from linkpay.wallet.embedded import start_embedded_wallet

    url = None
    drop = None
    if args.database_url:
        import os

        from conftest import create_pg_database, drop_pg_database  # type: ignore[import-not-found]

        os.environ["LINKPAY_TEST_PG_URL"] = args.database_url
        url = create_pg_database()
        drop = lambda: drop_pg_database(url)  # noqa: E731
    try:
        with start_embedded_wallet(database_url=url) as wallet:
            measure(wallet, args)
    finally:
        if drop:
            drop()


def measure(wallet: Any, args: argparse.Namespace) -> None:
    user_id = wallet.create_user(f"bench-{secrets.token_hex(4)}@example.com", "Bench")
    wallet.add_test_card(user_id)
    token = wallet.agent_login(user_id).access_token
    port = int(wallet.base_url.rsplit(":", 1)[1])
    client = wallet.http(token)
    approver = subprocess.Popen(
        [sys.executable, "-c", APPROVER, wallet.settings.database_url,
         str(wallet.settings.data_dir), user_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert approver.stdout and approver.stdin
    assert approver.stdout.readline().strip() == "ready"

    def one_round(cross_process: bool) -> float:
        spend_request_id = client.post("/spend_requests", json=body()).json()["id"]
        waiting = RawWait(port, token, spend_request_id)
        wait_until_watching(wallet, [spend_request_id])
        if cross_process:
            approver.stdin.write(spend_request_id + "\n")  # type: ignore[union-attr]
            approver.stdin.flush()  # type: ignore[union-attr]
            committed_at = float(approver.stdout.readline())  # type: ignore[union-attr]
        else:
            wallet.approve(spend_request_id, user_id)
            committed_at = time.time()
        waiting.join()
        assert b'"approved"' in waiting.data, waiting.data[:300]
        return (waiting.first_byte_at - committed_at) * 1000

    print(f"database: {wallet.settings.database_url.split(':')[0]}")
    summary("approval in another process → answer", [one_round(True) for _ in range(args.rounds)])
    summary("approval in this process → answer", [one_round(False) for _ in range(args.rounds)])

    if args.idle_waiters:
        idle_ids = [
            client.post("/spend_requests", json=body()).json()["id"]
            for _ in range(args.idle_waiters)
        ]
        idle = [RawWait(port, token, i) for i in idle_ids]
        wait_until_watching(wallet, idle_ids)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        time.sleep(3)
        cpu = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)
        print(
            f"{args.idle_waiters} idle long-polls: wallet process CPU {cpu * 100:.1f}% of one core"
        )
        summary(
            "…with them open: another process → answer",
            [one_round(True) for _ in range(args.rounds)],
        )
        summary(
            "…with them open: this process → answer",
            [one_round(False) for _ in range(args.rounds)],
        )
        for i in idle_ids:
            client.post(f"/spend_requests/{i}/cancel")
        for waiting in idle:
            waiting.join()
    approver.stdin.close()
    approver.wait(10)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--idle-waiters", type=int, default=300)
    parser.add_argument("--database-url", help="PostgreSQL admin URL (default: SQLite)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
