"""Writers in several processes at once: every chain stays whole (contiguous, linked,
matching its head) and verifiable; on PostgreSQL the writers spread over several
chains, and tampering inside any chain, moving an entry between chains or cutting a
chain short is still named."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
import textwrap
from collections import defaultdict

import pytest
from audit_helpers import Store, execute
from sqlalchemy import select

from linkpay.wallet import audit
from linkpay.wallet.store.audit_models import AuditEntry
from linkpay.wallet.store.db import transaction

# Runs alone (tests/serial_gate.py): several processes with a pool of connections each.
pytestmark = pytest.mark.serial

PROCESSES, THREADS, TRANSACTIONS = 3, 4, 10  # two events per transaction

WRITER = textwrap.dedent(
    """
    import sys, threading
    from linkpay.wallet import audit
    from linkpay.wallet.store.db import make_engine, make_sessionmaker, transaction

    url, name, threads, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    factory = make_sessionmaker(make_engine(url, pool_size=threads))
    errors = []

    def work(thread):
        try:
            for number in range(count):
                with transaction(factory) as db:
                    for part in ("a", "b"):
                        audit.record_event(db, "test.parallel", actor="system",
                                           subject=f"{name}-{thread}-{number}-{part}",
                                           data={"n": number})
        except BaseException as exc:
            errors.append(repr(exc))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    print("ready", flush=True)
    sys.stdin.readline()  # every process starts together
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("errors", errors, flush=True)
    sys.exit(1 if errors else 0)
    """
)


@pytest.fixture(scope="module")
def written(store: Store, database_url: str) -> Store:
    before = store.verify()
    assert before.ok, before
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, f"p{n}", str(THREADS), str(TRANSACTIONS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0, out
    after = store.verify()
    assert after.ok, after
    assert after.entries == before.entries + PROCESSES * THREADS * TRANSACTIONS * 2
    return store


def _chains(store: Store) -> dict[int, list[AuditEntry]]:
    with transaction(store.factory) as db:
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    chains: dict[int, list[AuditEntry]] = defaultdict(list)
    for row in rows:
        chains[row.chain].append(row)
    return chains


def test_every_chain_is_whole(written: Store, database_url: str) -> None:
    chains = _chains(written)
    for rows in chains.values():
        assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
        assert rows[0].prev_hash == audit.GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
    # A transaction's events stay together, in order, in one chain.
    for rows in chains.values():
        subjects = [row.subject for row in rows if row.type == "test.parallel"]
        for index, subject in enumerate(subjects):
            if subject.endswith("-a"):
                assert subjects[index + 1] == subject[:-1] + "b"
    if database_url.startswith("sqlite"):
        assert set(chains) == {1}  # one writer at a time anyway
    else:
        assert len(chains) > 1  # writers did not queue on one chain
        assert written.verify().chains == len(chains)


def test_export_of_several_chains_verifies(written: Store) -> None:
    out = io.StringIO()
    with transaction(written.factory) as db:
        audit.export_jsonl(db, out)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    result = audit.verify_entries(entries)
    assert result.ok and result.head_hash == written.verify().head_hash

    last_chain = entries[-1]["chain"]
    moved = [dict(entry) for entry in entries]
    moved[-1]["chain"] = last_chain % 16 + 1  # claimed by another chain
    assert not audit.verify_entries(moved).ok


def _busiest(store: Store) -> list[AuditEntry]:
    return max(_chains(store).values(), key=len)


def test_altered_entry_in_any_chain_is_named(written: Store) -> None:
    target = _busiest(written)[2]
    with written.tampered() as db:
        execute(db, "UPDATE audit_log SET actor = 'person:mallory' WHERE seq = :s", s=target.seq)
        result = audit.verify(db)
    assert (result.ok, result.broken_seq) == (False, target.seq)
    assert "altered" in (result.reason or "")


def test_deleted_entry_in_any_chain_is_named(written: Store) -> None:
    rows = _busiest(written)
    with written.tampered() as db:
        execute(db, "DELETE FROM audit_log WHERE seq = :s", s=rows[3].seq)
        result = audit.verify(db)
    assert not result.ok and "missing" in (result.reason or "")
    assert result.broken_seq in (rows[3].seq, rows[4].seq)


def test_chain_cut_short_is_named(written: Store) -> None:
    rows = _busiest(written)
    with written.tampered() as db:
        execute(db, "DELETE FROM audit_log WHERE seq = :s", s=rows[-1].seq)
        result = audit.verify(db)
    assert not result.ok and "cut off" in (result.reason or "")


def test_entry_moved_to_another_chain_is_named(written: Store) -> None:
    rows = _busiest(written)
    other = rows[0].chain % 16 + 1
    with written.tampered() as db:
        execute(
            db,
            "UPDATE audit_log SET chain = :c, chain_seq = 100000 WHERE seq = :s",
            c=other,
            s=rows[-1].seq,
        )
        result = audit.verify(db)
    assert not result.ok


def test_forked_chain_is_refused_by_the_database(written: Store) -> None:
    """Two entries after the same one in a chain: the unique keys refuse the second."""
    from sqlalchemy.exc import IntegrityError

    last = _busiest(written)[-1]
    with written.tampered() as db, pytest.raises(IntegrityError):
        execute(
            db,
            "INSERT INTO audit_log (seq, chain, chain_seq, at, type, actor, subject, data, "
            "prev_hash, hash) SELECT seq + 1000000, chain, chain_seq, at, type, actor, "
            "subject, data, prev_hash, :h FROM audit_log WHERE seq = :s",
            h="f" * 64,
            s=last.seq,
        )
