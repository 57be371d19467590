"""The hash chain on SQLite and PostgreSQL: altering, deleting or reordering any row
makes `verify` fail naming that entry; concurrent appends never fork the chain;
events roll back with their transaction."""

from __future__ import annotations

import io
import json
import threading

import pytest
from audit_helpers import Store, execute
from sqlalchemy import func, select

from linkpay.wallet import audit
from linkpay.wallet.audit.verify import entry_of
from linkpay.wallet.store.audit_models import AuditEntry
from linkpay.wallet.store.db import transaction

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture(scope="module")
def filled(store: Store) -> Store:
    store.record(6)
    result = store.verify()
    assert result.ok and result.entries >= 6, result
    return store


def test_intact_chain_verifies(filled: Store) -> None:
    result = filled.verify()
    assert result.ok
    assert result.broken_seq is None
    assert result.head_seq == result.entries
    with transaction(filled.factory) as db:
        last = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert result.head_hash == last.hash
        first = db.get(AuditEntry, 1)
        assert first is not None and first.prev_hash == audit.GENESIS


@pytest.mark.parametrize(
    "column, value",
    [
        ("data", '{"note":"ünïcode ✓","number":99}'),
        ("actor", "person:usr_someone_else"),
        ("type", "test.other"),
        ("subject", "t_forged"),
        ("user_id", "usr_other"),
    ],
)
def test_altered_row_is_named(filled: Store, column: str, value: str) -> None:
    target = 3
    with filled.tampered() as db:
        execute(db, f"UPDATE audit_log SET {column} = :v WHERE seq = :s", v=value, s=target)
        result = audit.verify(db)
    assert not result.ok
    assert result.broken_seq == target
    assert "altered" in (result.reason or "")
    assert filled.verify().ok  # rolled back


def test_altered_time_is_named(filled: Store) -> None:
    with filled.tampered() as db:
        row = db.get(AuditEntry, 2)
        assert row is not None
        execute(db, "UPDATE audit_log SET at = :at WHERE seq = 2", at=row.at.replace(microsecond=1))
        db.expire_all()
        result = audit.verify(db)
    assert (result.ok, result.broken_seq) == (False, 2)


def test_rehashed_row_breaks_the_next_link(filled: Store) -> None:
    """Forging an entry and fixing its own hash still breaks the next entry's link."""
    target = 2
    with filled.tampered() as db:
        row = db.get(AuditEntry, target)
        assert row is not None
        forged = entry_of(row)
        forged["data"] = {"number": 1000}
        new_hash = audit.entry_hash(forged)
        execute(
            db,
            "UPDATE audit_log SET data = :d, hash = :h WHERE seq = :s",
            d=json.dumps(forged["data"]),
            h=new_hash,
            s=target,
        )
        db.expire_all()
        result = audit.verify(db)
    assert (result.ok, result.broken_seq) == (False, target + 1)
    assert "prev_hash" in (result.reason or "")


@pytest.mark.parametrize("target", [1, 3])
def test_deleted_row_is_named(filled: Store, target: int) -> None:
    with filled.tampered() as db:
        execute(db, "DELETE FROM audit_log WHERE seq = :s", s=target)
        result = audit.verify(db)
    assert not result.ok
    assert result.broken_seq == target
    assert "missing" in (result.reason or "")


def test_deleted_last_row_is_named(filled: Store) -> None:
    last = filled.head()
    with filled.tampered() as db:
        execute(db, "DELETE FROM audit_log WHERE seq = :s", s=last)
        result = audit.verify(db)
    assert (result.ok, result.broken_seq) == (False, last)
    assert "cut off" in (result.reason or "")


def test_reordered_rows_are_named(filled: Store) -> None:
    """Swap two entries' positions: the first position that changed is named."""
    with filled.tampered() as db:
        execute(db, "UPDATE audit_log SET seq = -1 WHERE seq = 2")
        execute(db, "UPDATE audit_log SET seq = 2 WHERE seq = 4")
        execute(db, "UPDATE audit_log SET seq = 4 WHERE seq = -1")
        result = audit.verify(db)
    assert (result.ok, result.broken_seq) == (False, 2)


def test_export_round_trips_and_detects_tampering(filled: Store) -> None:
    out = io.StringIO()
    with transaction(filled.factory) as db:
        written = audit.export_jsonl(db, out)
    head = filled.verify()
    lines = out.getvalue().splitlines()
    assert written == len(lines) == head.entries
    assert audit.verify_entries(audit.read_jsonl(lines)).ok
    assert audit.verify_entries(audit.read_jsonl(lines)).head_hash == head.head_hash

    entries = [json.loads(line) for line in lines]
    entries[1]["actor"] = "person:mallory"
    altered = audit.verify_entries(entries)
    assert (altered.ok, altered.broken_seq) == (False, entries[1]["seq"])

    swapped = [json.loads(line) for line in lines]
    swapped[2], swapped[3] = swapped[3], swapped[2]
    reordered = audit.verify_entries(swapped)
    # position 3 holds entry 4: entry 3 is the one out of place
    assert (reordered.ok, reordered.broken_seq) == (False, swapped[3]["seq"])


def test_concurrent_appends_never_fork(store: Store) -> None:
    before = store.head()
    threads_count, each = 6, 5
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def work(worker: int) -> None:
        try:
            start.wait()
            store.record(each, user_id=f"usr_thread{worker}", prefix=f"w{worker}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    result = store.verify()
    assert result.ok, result
    assert result.head_seq == before + threads_count * each
    with transaction(store.factory) as db:
        seqs = db.scalars(select(AuditEntry.seq).where(AuditEntry.seq > before)).all()
    assert sorted(seqs) == list(range(before + 1, before + threads_count * each + 1))


def test_rolled_back_transaction_records_nothing(store: Store) -> None:
    before = store.head()
    with pytest.raises(RuntimeError), transaction(store.factory) as db:
        audit.record_event(db, "test.never", actor="system", subject="x")
        raise RuntimeError("domain change failed")
    assert store.head() == before


def test_rolled_back_savepoint_forgets_its_events(store: Store) -> None:
    before = store.head()
    with transaction(store.factory) as db:
        audit.record_event(db, "test.kept", actor="system", subject="outer")
        try:
            with db.begin_nested():
                audit.record_event(db, "test.lost", actor="system", subject="inner")
                raise RuntimeError("lost the race")
        except RuntimeError:
            pass
        with db.begin_nested():
            audit.record_event(db, "test.kept", actor="system", subject="released")
    with transaction(store.factory) as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.seq > before)).all()
    assert [(r.type, r.subject) for r in rows] == [
        ("test.kept", "outer"),
        ("test.kept", "released"),
    ]


def test_card_data_never_stored(store: Store) -> None:
    with transaction(store.factory) as db:
        audit.record_event(
            db,
            "test.secret",
            actor="system",
            subject="leak",
            data={
                "number": "4242424242424242",
                "note": "card 4000 0566 5566 5556 ok",
                "cvc": "123",
            },
        )
    with transaction(store.factory) as db:
        stored = db.scalars(select(AuditEntry.data).where(AuditEntry.subject == "leak")).one()
        total = db.scalar(select(func.count()).select_from(AuditEntry))
    assert "4242424242424242" not in stored and "5556" not in stored and "123" not in stored
    assert total and store.verify().ok


@pytest.mark.parametrize(
    "kind, actor, subject",
    [("Bad Type", "system", "x"), ("nodot", "system", "x"), ("a.b", "", "x"), ("a.b", "s", "")],
)
def test_bad_events_are_refused(store: Store, kind: str, actor: str, subject: str) -> None:
    with transaction(store.factory) as db, pytest.raises(ValueError):
        audit.record_event(db, kind, actor=actor, subject=subject)


def test_long_batch_in_one_transaction(store: Store) -> None:
    """More entries than one insert statement takes: all appended, in one chain, in order."""
    before = store.verify().entries
    with transaction(store.factory) as db:
        for number in range(1201):
            audit.record_event(db, "test.batch", actor="system", subject=f"batch_{number}")
        written = audit.append_pending(db)
    assert [entry["subject"] for entry in written] == [f"batch_{n}" for n in range(1201)]
    assert len({entry["chain"] for entry in written}) == 1
    chain_seqs = [entry["chain_seq"] for entry in written]
    assert chain_seqs == list(range(chain_seqs[0], chain_seqs[0] + 1201))
    result = store.verify()
    assert result.ok and result.entries == before + 1201, result


def test_append_rolled_back_after_it_ran_leaves_the_chain_whole(
    store: Store, database_url: str
) -> None:
    """Entries appended and then rolled back (the transaction failed later) leave no
    trace but, on PostgreSQL, a gap in `seq`; the chains still verify and continue."""
    before = store.verify()
    with pytest.raises(RuntimeError), transaction(store.factory) as db:
        audit.record_event(db, "test.undone", actor="system", subject="undone")
        lost = audit.append_pending(db)
        raise RuntimeError("a later step failed")
    store.record(1, prefix="after_undo")
    with transaction(store.factory) as db:
        assert not audit.entries_for_subject(db, "undone")
        kept = audit.entries_for_subject(db, "after_undo_0")
    result = store.verify()
    assert result.ok and result.entries == before.entries + 1, result
    if database_url.startswith("sqlite"):  # numbered under the write lock: reused
        assert kept[0]["seq"] == lost[0]["seq"]
    else:  # drawn from a sequence: skipped
        assert kept[0]["seq"] > lost[0]["seq"]
