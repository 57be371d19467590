"""Cross-process long-poll wakes on PostgreSQL with LISTEN/NOTIFY.

Sending: the transaction that changes a spend request also runs
`pg_notify('linkpay_spend_requests', '<id>,<id>…')` just before it commits, so
PostgreSQL delivers the notification exactly when (and only if) the change becomes
visible, to every process and host listening on the database.

Receiving: one `Listener` per worker process holds a dedicated autocommit connection
(outside the pool) in `LISTEN` and hands each notification's ids to a callback on the
event loop. After every (re)connect it reports `None` ("anything may have changed"),
so waiters re-read instead of missing a change made while it was disconnected.

SQLite has no such channel; there `longpoll` keeps its in-process wake plus a version
poll for changes committed by other processes (`link-wallet approve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from linkpay.wallet.spend.states import changed_ids

log = logging.getLogger("linkpay.wallet.spend")

CHANNEL = "linkpay_spend_requests"
_MAX_PAYLOAD = 7000  # PostgreSQL's limit is 8000 bytes
_RECONNECT_SECONDS = (0.05, 0.2, 1.0, 2.0)

OnChange = Callable[[list[str] | None], None]


@event.listens_for(Session, "before_commit")
def _notify_from_committing_transaction(session: Session) -> None:
    if session.in_nested_transaction():
        return
    changed = changed_ids(session)
    if not changed:
        return
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for payload in _payloads(sorted(changed)):
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )


def _payloads(ids: list[str]) -> list[str]:
    payloads: list[str] = []
    current: list[str] = []
    size = 0
    for spend_request_id in ids:
        if current and size + len(spend_request_id) + 1 > _MAX_PAYLOAD:
            payloads.append(",".join(current))
            current, size = [], 0
        current.append(spend_request_id)
        size += len(spend_request_id) + 1
    if current:
        payloads.append(",".join(current))
    return payloads


def libpq_url(engine: Engine) -> str:
    """The engine's URL as a plain libpq connection string (no SQLAlchemy driver)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """LISTENs on `CHANNEL` for as long as the process lives (started on first use)."""

    def __init__(self, engine: Engine, on_change: OnChange) -> None:
        self._conninfo = libpq_url(engine)
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        import psycopg

        attempt = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    attempt = 0
                    self.connected.set()
                    self._on_change(None)  # whatever happened while we were away
                    async for notice in conn.notifies():
                        self._on_change([part for part in notice.payload.split(",") if part])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect; waiters fall back to their timeout
                self.connected.clear()
                delay = _RECONNECT_SECONDS[min(attempt, len(_RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning("LISTEN %s lost; reconnecting in %.2fs", CHANNEL, delay, exc_info=True)
                await asyncio.sleep(delay)
