"""The agent's read paths: Stripe-style pages (limit, starting_after, has_more), a
constant number of queries per page (no N+1), and reads that never wait for SQLite's
write lock (an expiry is persisted afterwards, in a short write, only when due)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from capacity_helpers import card_body
from sqlalchemy import event, make_url, update

from linkpay.wallet.store.models import SpendRequest, utcnow


def _ids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["data"]]


def test_pages_walk_every_request_once_newest_first(agent: Any) -> None:
    created = [agent.post("/spend_requests", json=card_body()).json()["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"include_history": "true", "limit": 2}
        if cursor:
            params["starting_after"] = cursor
        page = agent.get("/spend_requests", params=params)
        seen += _ids(page)
        if not page.json()["has_more"]:
            break
        cursor = seen[-1]
    assert seen == list(reversed(created))


def test_page_size_is_bounded_and_cursor_checked(agent: Any, other_agent_id: str) -> None:
    assert agent.get("/spend_requests", params={"limit": 101}).status_code == 400
    assert agent.get("/spend_requests", params={"limit": 0}).status_code == 400
    unknown = agent.get("/spend_requests", params={"starting_after": "lsrq_nope"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "starting_after"
    # Another person's request is no cursor either (and reveals nothing).
    foreign = agent.get("/spend_requests", params={"starting_after": other_agent_id})
    assert foreign.status_code == 400


def test_active_list_skips_requests_that_read_expired(wallet: Any, agent: Any) -> None:
    live = agent.post("/spend_requests", json=card_body()).json()["id"]
    lapsed = agent.post("/spend_requests", json=card_body()).json()["id"]
    with wallet.session() as db:
        db.execute(
            update(SpendRequest)
            .where(SpendRequest.id == lapsed)
            .values(approval_expires_at=utcnow() - timedelta(seconds=1))
        )
    page = agent.get("/spend_requests", params={"limit": 1})
    assert _ids(page) == [live]  # a full page, not one cut short by the expired row
    # Retrieving it reads `expired`, and that is then persisted in a short write.
    assert agent.get(f"/spend_requests/{lapsed}").json()["status"] == "expired"
    with wallet.session() as db:
        assert db.get(SpendRequest, lapsed).status == "expired"  # type: ignore[union-attr]


@contextmanager
def _counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_costs_the_same_queries_for_3_or_30_rows(wallet: Any, agent: Any) -> None:
    engine = wallet.app.state.engine

    def queries(limit: int) -> int:
        with _counting(engine) as statements:
            page = agent.get("/spend_requests", params={"include_history": "true", "limit": limit})
            assert len(_ids(page)) == limit
        # The job worker's idle poll shares the engine: count only the request's reads.
        return len(
            [
                s
                for s in statements
                if s.lstrip().upper().startswith("SELECT") and "outbox_jobs" not in s
            ]
        )

    for _ in range(30):
        agent.post("/spend_requests", json=card_body())
    assert queries(3) == queries(30)


def test_reads_do_not_wait_for_the_sqlite_write_lock(wallet: Any, agent: Any) -> None:
    created = agent.post("/spend_requests", json=card_body()).json()["id"]
    url = wallet.settings.database_url
    if not url.startswith("sqlite"):
        return  # PostgreSQL readers never wait for writers; the SQLite case is the risk
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        assert agent.get(f"/spend_requests/{created}").status_code == 200
        assert agent.get("/spend_requests").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_create_looks_the_token_up_outside_a_transaction(wallet: Any, agent: Any) -> None:
    """The bearer token lookup before a create (a route with transactions of its own) is
    one statement with no BEGIN/COMMIT around it; the create's own work is not."""
    engine = wallet.app.state.engine
    outside: dict[str, list[bool]] = {"oauth_tokens": [], "spend_requests": []}

    def _seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        for table, found in outside.items():
            if statement.lstrip().startswith(("SELECT", "INSERT")) and f" {table}" in statement:
                if engine.dialect.name == "postgresql":
                    found.append(bool(dbapi.autocommit))
                else:
                    found.append(not dbapi.in_transaction)

    event.listen(engine, "before_cursor_execute", _seen)
    try:
        created = agent.post("/spend_requests", json=card_body())
    finally:
        event.remove(engine, "before_cursor_execute", _seen)
    assert created.status_code == 200, created.text
    assert outside["oauth_tokens"] == [True]
    assert outside["spend_requests"] and not any(outside["spend_requests"])
