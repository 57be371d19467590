"""Overload answers 503 with Retry-After and a JSON body, never a 500: SQLite's write
lock held past the busy timeout, PostgreSQL's pool exhausted past the pool timeout,
and PostgreSQL refusing connections ("too many clients")."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

import pytest
from capacity_helpers import card_body, issue_agent_token
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError

from linkpay.wallet.overload import is_overload
from linkpay.wallet.store.db import normalize_database_url


def _assert_busy(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["error"]["code"] == "service_unavailable"


def test_busy_database_is_503_with_retry_after(wallet_factory: Any, person: str) -> None:
    busy = wallet_factory(
        sqlite_busy_timeout_seconds=0.2, db_pool_timeout_seconds=0.2, db_pool_size=2
    )
    token = issue_agent_token(busy, person)
    url = busy.settings.database_url
    with busy.http(token.access_token) as agent:
        if url.startswith("sqlite"):
            # Another process holds SQLite's write lock past the busy timeout.
            holder = sqlite3.connect(make_url(url).database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            try:
                _assert_busy(agent.post("/spend_requests", json=card_body()))
            finally:
                holder.execute("ROLLBACK")
                holder.close()
        else:
            # Every pooled connection is taken: requests wait the pool timeout, then 503.
            engine = busy.app.state.engine
            held = [engine.connect(), engine.connect()]
            try:
                _assert_busy(agent.get("/spend_requests"))
                _assert_busy(agent.post("/spend_requests", json=card_body()))
            finally:
                for connection in held:
                    connection.close()
        # Once the pressure is gone the same wallet serves again.
        assert agent.post("/spend_requests", json=card_body()).status_code == 200


@pytest.mark.only_database("postgres")  # PostgreSQL connection limits
def test_too_many_clients_counts_as_overload(database_url: str) -> None:
    role = f"linkpay_full_{secrets.token_hex(4)}"
    admin = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
        url = make_url(normalize_database_url(database_url)).set(username=role)
        refused = create_engine(url, poolclass=None)
        with pytest.raises(OperationalError) as raised:
            refused.connect()
        refused.dispose()
        assert "too many connections" in str(raised.value)
        assert is_overload(raised.value)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()
