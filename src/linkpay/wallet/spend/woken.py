"""Answer long-polls in batches (`longpoll.VersionWatcher`'s `settle`).

An approval wakes every long-poll on its request, and a burst of approvals wakes
hundreds at once. Each waiter used to re-read its row in a worker thread, hop back to
the event loop, then render in a second thread and transaction, and every
`include=card` answer appended its own audit entry under the chain's one lock. Here
all waiters due at one moment are settled together in one thread hop: their rows in
one query, the answers of those whose status moved rendered in the same transaction
(credentials and decisions in one query each), and every reveal's audit entry
appended at its one commit. The answers are exactly what the retrieve route renders,
already encoded (JSON bytes), so the event loop only sends them.

On SQLite the rows are read in a snapshot (no write lock); only answers that reveal a
credential (an audit write) are rendered in a second, writing transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.spend.longpoll import Outcome, Probe, Snapshot
from linkpay.wallet.spend.reads import persist_due_expiries
from linkpay.wallet.spend.serialize import answer_bytes, preload, to_wire
from linkpay.wallet.spend.windows import deadline, effective_status
from linkpay.wallet.store.db import read_transaction, transaction
from linkpay.wallet.store.models import SpendRequest, utcnow


def settle(factory: sessionmaker[Session], settings: Any, probes: list[Probe]) -> list[Outcome]:
    """One Outcome per probe, in order (blocking: run it in a worker thread)."""
    rows: list[SpendRequest] = []
    if factory.kw["bind"].dialect.name == "postgresql":
        # One transaction reads, renders and appends the reveals' audit entries.
        with transaction(factory) as session:
            outcomes, _later = _settle_in(session, probes, settings, rows, reveal=True)
    else:
        with read_transaction(factory) as session:  # a snapshot: no write lock
            outcomes, later = _settle_in(session, probes, settings, rows, reveal=False)
        if later:  # revealing a credential is audited, so it writes
            with transaction(factory) as session:
                again, _later = _settle_in(
                    session, [probes[i] for i in later], settings, rows, reveal=True
                )
            for index, outcome in zip(later, again, strict=True):
                outcomes[index] = outcome
    persist_due_expiries(factory, list({row.id: row for row in rows}.values()))  # when due
    settled = [outcome for outcome in outcomes if outcome is not None]
    assert len(settled) == len(probes)
    return settled


def _settle_in(
    session: Session,
    probes: list[Probe],
    settings: Any,
    seen: list[SpendRequest],
    *,
    reveal: bool,
) -> tuple[list[Outcome | None], list[int]]:
    """Outcomes (None where deferred), and the indexes deferred because answering
    them reveals a credential and `reveal` is off."""
    now = utcnow()
    ids = sorted({probe.spend_request_id for probe in probes})
    found = session.scalars(select(SpendRequest).where(SpendRequest.id.in_(ids)))
    rows = {row.id: row for row in found}
    seen.extend(rows.values())
    outcomes: list[Outcome | None] = []
    moved: list[int] = []
    later: list[int] = []
    for index, probe in enumerate(probes):
        row = rows.get(probe.spend_request_id)
        if row is None or row.user_id != probe.user_id:  # another person's: the route 404s
            outcomes.append(Outcome(None))
            continue
        status = effective_status(row, now)
        snapshot = Snapshot(status, row.version, deadline(row))
        outcomes.append(Outcome(snapshot))
        if not probe.final and (probe.status is None or status == probe.status):
            continue
        if probe.include and not reveal:
            later.append(index)
            outcomes[index] = None
        else:
            moved.append(index)
    if moved:
        loaded = preload(session, sorted({probes[index].spend_request_id for index in moved}))
        for index in moved:
            probe = probes[index]
            wire = to_wire(
                session,
                rows[probe.spend_request_id],
                settings=settings,
                include=probe.include,
                now=now,
                preloaded=loaded,
            )
            outcomes[index] = Outcome(
                outcomes[index].snapshot,  # type: ignore[union-attr]
                answer_bytes(wire),
            )
    return outcomes, later
