"""Count limits at create for people without rules or budgets, exact on PostgreSQL
without making every create of a wallet wait for the one before it.

Such a create only counts (active requests, this agent's creates per hour and per 60
days). Near a limit it takes the wallet lock (`ledger.lock_wallet`) and counts exactly.
Far from every limit it runs side by side with others: it holds the wallet lock
*shared* and one of `CREATE_SLOTS` slot locks, so at most CREATE_SLOTS such creates are
in flight per wallet across all processes and hosts, and each may insert only while
its count plus CREATE_SLOTS stays within the limit (`check`). An exclusive holder waits
for every shared one, so near the limit nobody is uncounted. SQLite needs none of
this: a write transaction holds the database lock from BEGIN IMMEDIATE.

Which way a create goes is chosen before it reads anything, from the room this
process last saw for (wallet, agent): unknown or small room means the exact way.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from linkpay.wallet.errors import Unavailable
from linkpay.wallet.policy.ledger import WALLET_LOCK_CLASS, lock_wallet

CREATE_SLOTS = 8
SLOT_LOCK_CLASS = 1314
_MAX_REMEMBERED = 10_000
_room: dict[tuple[str, str | None], int] = {}
_room_lock = threading.Lock()

# Driver SQL (psycopg's %s placeholders), run on every create: nothing to compile.
_SHARED_AND_SLOT = (
    "SELECT pg_advisory_xact_lock_shared(%(wallet_class)s, hashtext(%(wallet)s)), "
    "(SELECT s FROM (SELECT (CAST(%(start)s AS integer) + g) %% CAST(%(n)s AS integer) AS s "
    "FROM generate_series(0, CAST(%(n)s AS integer) - 1) AS g) AS slots "
    "WHERE pg_try_advisory_xact_lock(%(slot_class)s, hashtext(%(wallet)s || ':' || s)) LIMIT 1)"
)
_WAIT_FOR_SLOT = (
    "SELECT pg_advisory_xact_lock(%(slot_class)s, "
    "hashtext(%(wallet)s || ':' || CAST(%(start)s AS integer)))"
)


_SLOT_HOLDERS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid = CAST(:slot_class AS oid) AND objid IN (SELECT CAST(hashtext(:wallet || "
    "':' || g) AS oid) FROM generate_series(0, CAST(:n AS integer) - 1) AS g)"
)


def serialized_by_database(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _side_by_side(user_id: str, agent: str | None) -> bool:
    key = (user_id, agent)
    with _room_lock:
        room = _room.get(key)
        if room is None or room < 2 * CREATE_SLOTS:
            return False
        _room[key] = room - 1  # this create may take one place
        return True


def lock(session: Session, user_id: str, agent: str | None) -> bool:
    """Take the locks for a create; True when it runs side by side (see `check`)."""
    if serialized_by_database(session):
        return False
    if not _side_by_side(user_id, agent):
        lock_wallet(session, user_id)
        return False
    start = secrets.randbelow(CREATE_SLOTS)
    params = {
        "wallet_class": WALLET_LOCK_CLASS,
        "slot_class": SLOT_LOCK_CLASS,
        "wallet": user_id,
        "n": CREATE_SLOTS,
        "start": start,
    }
    connection = session.connection()
    _shared, slot = connection.exec_driver_sql(_SHARED_AND_SLOT, params).one()
    if slot is None:  # all slots busy: queue for one
        connection.exec_driver_sql(_WAIT_FOR_SLOT, params)
    return True


def remember_room(user_id: str, agent: str | None, room: int) -> None:
    with _room_lock:
        if len(_room) >= _MAX_REMEMBERED:
            _room.clear()
        _room[(user_id, agent)] = room


def check(
    session: Session,
    user_id: str,
    agent: str | None,
    room: int,
    *,
    side_by_side: bool,
    recount: Callable[[], int],
) -> None:
    """Remember the room seen under the lock. A create running side by side with less
    than CREATE_SLOTS of room counts the creates in flight (the slot locks held) and
    then the room again: it goes on only if every one of them fits; otherwise 503,
    nothing written, and the retry takes the exact way. (No room at all: the limit's
    own refusal follows.)"""
    remember_room(user_id, agent, room - 1)  # after this create, if it goes through
    if not side_by_side or room >= CREATE_SLOTS or room <= 0:
        return
    in_flight = session.execute(
        _SLOT_HOLDERS, {"slot_class": SLOT_LOCK_CLASS, "wallet": user_id, "n": CREATE_SLOTS}
    ).scalar_one()
    if recount() >= in_flight:  # counted after the slots: nobody slips between
        return
    raise Unavailable(
        "Many spend requests are being created for this person at once; retry",
        code="busy",
        retry_after=1,
    )
