"""Pooled PostgreSQL connections the server has ended are replaced at checkout, with no
ping round trip on healthy ones (`store.db._drop_if_ended`): after
`pg_terminate_backend` (what a server restart does to every connection), the next
checkout gets a fresh connection instead of failing the request."""

from __future__ import annotations

import secrets
import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from linkpay.wallet.store.db import make_engine

pytestmark = pytest.mark.only_database("postgres")


def _terminate(database_url: str, pids: list[int]) -> None:
    """End these backends and wait until they are gone (their goodbye is on the wire)."""
    admin = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "backends did not exit"
            time.sleep(0.01)


def test_a_connection_the_server_ended_is_replaced_at_checkout(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        with engine.connect() as conn:
            first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        statements.clear()
        with engine.connect() as conn:  # healthy: the same connection, no ping
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == first
        assert statements == ["SELECT pg_backend_pid()"]
        _terminate(database_url, [first])
        with engine.connect() as conn:
            replaced = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        assert replaced != first
    finally:
        engine.dispose()


def test_the_wallet_answers_after_its_connections_were_ended(wallet: Any) -> None:
    user_id = wallet.create_user(f"restart-{secrets.token_hex(4)}@example.com", "Ada")
    wallet.add_test_card(user_id)
    token = wallet.agent_login(user_id).access_token
    with wallet.http(token) as agent:
        created = agent.post(
            "/spend_requests",
            json={
                "amount": 1200,
                "merchant_name": "Kettle Shop",
                "merchant_url": "https://kettles.example",
                "context": "A kettle for the kitchen, the old one stopped heating this week "
                "and this is the model the person picked on the shop's page.",
            },
        )
        assert created.status_code == 200, created.text
        own = wallet.app.state.engine.url.database
        with psycopg.connect(wallet.settings.database_url, autocommit=True) as conn:
            pids = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                    " AND pid <> pg_backend_pid() AND query NOT ILIKE 'LISTEN%%'",
                    (own,),
                )
            ]
        assert pids  # the wallet's pooled connections
        _terminate(wallet.settings.database_url, pids)
        for path in (f"/spend_requests/{created.json()['id']}", "/spend_requests"):
            answer = agent.get(path)
            assert answer.status_code == 200, (path, answer.text)
