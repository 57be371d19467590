"""Answer long-polls in batches (`longpoll.VersionWatcher`'s `settle`).

An approval wakes every long-poll on its request, and a burst of approvals wakes
hundreds at once. Each waiter used to re-read its row in a worker thread, hop back to
the event loop, then render in a second thread and transaction, and every
`include=card` answer appended its own audit entry under the chain's one lock. Here
all waiters due at one moment are settled together in one thread hop: their rows, each
with its credential and decision, in one Core statement (no ORM objects: building them
for these wide rows was most of the cost), the answers of those whose status moved
rendered in the same transaction, and every reveal's audit entry appended at its one
commit. The answers are exactly what the retrieve route renders (`serialize.to_wire`
on the rows), already encoded (JSON bytes), so the event loop only sends them.

On SQLite the rows are read in a snapshot (no write lock); only answers that reveal a
credential (an audit write) are rendered in a second, writing transaction.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.spend.longpoll import Outcome, Probe, Snapshot
from linkpay.wallet.spend.reads import persist_due_expiries
from linkpay.wallet.spend.serialize import Preloaded, answer_bytes, to_wire
from linkpay.wallet.spend.windows import deadline, effective_status
from linkpay.wallet.store.db import read_transaction, transaction
from linkpay.wallet.store.models import Credential, SpendRequest, utcnow
from linkpay.wallet.store.policy_models import SpendDecision


class _Held(NamedTuple):
    """The credential columns a reveal reads (`issuing.base.HeldCredential`)."""

    id: str
    kind: str
    status: str
    issuer: str
    issuer_ref: str | None
    brand: str | None
    last4: str | None
    secret_ciphertext: str | None
    billing_address: dict[str, Any] | None
    approval_hash: str
    valid_until: datetime


class _Found(NamedTuple):
    """A row of `_STATEMENT`: what `to_wire` reads of a request (`serialize.Revealable`,
    under its attribute names), its credential's columns (`held_…`, in `_Held`'s
    order) and its decision. A tuple, as its attributes are read some sixty times per
    answer (a SQLAlchemy `Row`'s are several times slower to read)."""

    id: str
    status: str
    credential_type: str
    network_id: str | None
    amount: int
    currency: str
    merchant_name: str | None
    merchant_url: str | None
    context: str
    line_items: list[Any]
    totals: list[Any]
    payment_method_id: str | None
    request_metadata: dict[str, Any]
    test: bool
    expires_at: datetime | None
    approval_expires_at: datetime | None
    credential_valid_until: datetime | None
    payment_status_details: dict[str, Any] | None
    status_details: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    user_id: str
    token_family_id: str | None
    version: int
    approval_hash: str | None
    held_id: str | None
    held_kind: str | None
    held_status: str | None
    held_issuer: str | None
    held_issuer_ref: str | None
    held_brand: str | None
    held_last4: str | None
    held_secret_ciphertext: str | None
    held_billing_address: dict[str, Any] | None
    held_approval_hash: str | None
    held_valid_until: datetime | None
    decision_by: str | None
    decision_rule: str | None
    decision_reason: str | None


def _column(name: str) -> ColumnElement[Any]:
    if name.startswith("held_"):
        return Credential.__table__.c[name.removeprefix("held_")].label(name)
    if name.startswith("decision_"):
        return SpendDecision.__table__.c[name.removeprefix("decision_")].label(name)
    return SpendRequest.__mapper__.column_attrs[name].columns[0].label(name)


_REQUESTS = SpendRequest.__table__
_STATEMENT = (
    select(*map(_column, _Found._fields))
    .select_from(
        _REQUESTS.outerjoin(
            Credential.__table__, Credential.spend_request_id == SpendRequest.id
        ).outerjoin(SpendDecision.__table__, SpendDecision.spend_request_id == SpendRequest.id)
    )
    .where(_REQUESTS.c.id.in_(bindparam("ids", expanding=True)))
)
_FIRST_HELD = _Found._fields.index("held_id")
_HELD = (_FIRST_HELD, _FIRST_HELD + len(_Held._fields))


def settle(factory: sessionmaker[Session], settings: Any, probes: list[Probe]) -> list[Outcome]:
    """One Outcome per probe, in order (blocking: run it in a worker thread)."""
    rows: list[_Found] = []
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


def _preloaded(rows: list[_Found]) -> Preloaded:
    """The credentials and decisions of `rows`, as `serialize.preload` gives them."""
    loaded = Preloaded(decisions={})
    assert loaded.decisions is not None
    for row in rows:
        if row.held_id is not None:
            loaded.credentials[row.id] = _Held._make(islice(row, *_HELD))
        # The same rule as policy.service.decision_of.
        if row.decision_by is not None:
            loaded.decisions[row.id] = {
                "by": row.decision_by,
                "rule": row.decision_rule,
                "reason": row.decision_reason,
            }
    return loaded


def _settle_in(
    session: Session,
    probes: list[Probe],
    settings: Any,
    seen: list[_Found],
    *,
    reveal: bool,
) -> tuple[list[Outcome | None], list[int]]:
    """Outcomes (None where deferred), and the indexes deferred because answering
    them reveals a credential and `reveal` is off."""
    now = utcnow()
    ids = sorted({probe.spend_request_id for probe in probes})
    found = session.connection().execute(_STATEMENT, {"ids": ids}).all()
    rows = {row.id: row for row in map(_Found._make, found)}
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
        loaded = _preloaded([rows[probes[index].spend_request_id] for index in moved])
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
