"""Helpers for the policy tests that run a real wallet: set a person's policy the way
the web app and `link-wallet policy` do (through `policy.edit`), read the ledger, make
agents and charges, start `link-wallet serve` processes on one database (imported by
the test modules)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from linkpay.serving import free_loopback_port
from linkpay.wallet.policy import edit
from linkpay.wallet.policy.limits import DEFAULT_MAXIMUMS

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))
CONTEXT = (
    "Buying the paperback the person asked for this morning from the usual bookshop, "
    "delivered to their default address; the price was checked against two others."
)


def body(amount: int = 1500, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "amount": amount,
        "currency": "usd",
        "merchant_name": "Books",
        "merchant_url": "https://books.example/cart",
        "context": f"{CONTEXT} [{secrets.token_hex(4)}]",
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def set_rules(wallet: Any, person: str, *rules: dict[str, Any]) -> None:
    raw = [{"id": f"r{i}", **rule} for i, rule in enumerate(rules, start=1)]
    with wallet.session() as session:
        edit.set_rules(session, person, raw, actor="test", confirmed_by="test")


def set_budgets(wallet: Any, person: str, *budgets: dict[str, Any]) -> None:
    raw = [{"id": f"b{i}", **budget} for i, budget in enumerate(budgets, start=1)]
    with wallet.session() as session:
        edit.set_budgets(session, person, raw, actor="test", confirmed_by="test")


def set_limits(wallet: Any, person: str, **changes: int) -> None:
    with wallet.session() as session:
        edit.set_limits(
            session, person, changes, maximum=DEFAULT_MAXIMUMS, actor="test", confirmed_by="test"
        )


def ledger_rows(wallet: Any, spend_request_id: str) -> list[tuple[str, int]]:
    from sqlalchemy import select

    from linkpay.wallet.store.policy_models import LedgerEntry

    with wallet.session() as session:
        return [
            (row.kind, row.amount)
            for row in session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.spend_request_id == spend_request_id)
                .order_by(LedgerEntry.id)
            )
        ]


def wallet_total(wallet: Any, person: str) -> int:
    from linkpay.wallet.policy.ledger import wallet_total as total

    with wallet.session() as session:
        return total(session, person)


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # a loaded CI box starts Python slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"wallet server exited with {proc.returncode}"
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@contextmanager
def server_processes(wallet: Any, database_url: str, count: int, tmp: Path) -> Iterator[list[str]]:
    """`count` `link-wallet serve` processes on one database, same keys as `wallet`."""
    env = {
        **os.environ,
        "LINKPAY_DATABASE_URL": database_url,
        "LINKPAY_DATA_DIR": str(tmp),
        "LINKPAY_CARD_KEY": base64.b64encode(wallet.settings.card_key).decode(),
        "LINKPAY_PEPPER": base64.b64encode(wallet.settings.pepper).decode(),
    }
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for index in range(count):
            port = free_loopback_port()
            log = open(tmp / f"wallet-{index}.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [LINK_WALLET, "serve", "--port", str(port), "--no-access-log"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
            _wait_up(f"{urls[-1]}/openapi.json", proc)  # one at a time: migrations
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
