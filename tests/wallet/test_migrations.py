"""Alembic: fresh databases upgrade to head, models and migrations agree, the downgrade
path works, and the shortcut for an empty database (`create_all` + stamp, no Alembic)
builds the schema the revisions build, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect, text

from linkpay.wallet.store import models, web_models
from linkpay.wallet.store.db import make_engine
from linkpay.wallet.store.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(empty_database_url: str) -> None:
    database_url = empty_database_url
    assert head_revision() is not None
    assert current_revision(database_url) is None
    # Every revision, one by one (upgrade_to_head would take the empty-database shortcut).
    command.upgrade(alembic_config(database_url=database_url), "head")
    assert current_revision(database_url) == head_revision()
    upgrade_to_head(database_url)  # idempotent
    assert set(models.Base.metadata.tables) <= _tables(database_url)
    assert web_models.Base is models.Base
    # models.py / web_models.py and the revisions describe the same schema
    command.check(alembic_config(database_url=database_url))
    command.downgrade(alembic_config(database_url=database_url), "base")
    assert _tables(database_url) <= {"alembic_version"}
    upgrade_to_head(database_url)
    assert current_revision(database_url) == head_revision()


def test_database_url_fixture_comes_migrated(database_url: str) -> None:
    assert current_revision(database_url) == head_revision()
    assert set(models.Base.metadata.tables) <= _tables(database_url)


def test_initial_revision_is_0001() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    base = [s for s in scripts.walk_revisions() if s.down_revision is None]
    assert [s.revision for s in base] == ["0001_initial"]


def _schema(url: str) -> dict[str, Any]:
    """Tables with their columns, keys, indexes and constraints, plus the rows Alembic
    and the revisions put in (column order aside: nothing of ours depends on it)."""
    engine = make_engine(url)
    try:
        found = inspect(engine)
        schema: dict[str, Any] = {}
        for table in sorted(found.get_table_names()):
            pk = found.get_pk_constraint(table)
            schema[table] = {
                "columns": {
                    column["name"]: (
                        str(column["type"]),
                        column["nullable"],
                        str(column.get("default")),
                    )
                    for column in found.get_columns(table)
                },
                "pk": (pk.get("name"), tuple(pk["constrained_columns"])),
                "fks": sorted(
                    (fk.get("name"), tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in found.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                    for ix in found.get_indexes(table)
                ),
                "uniques": sorted(
                    (uq["name"], tuple(uq["column_names"]))
                    for uq in found.get_unique_constraints(table)
                ),
                "checks": sorted(
                    (ck.get("name"), ck["sqltext"]) for ck in found.get_check_constraints(table)
                ),
            }
        with engine.connect() as connection:
            for table in ("alembic_version", "audit_head"):
                rows = connection.execute(text(f"SELECT * FROM {table}")).all()
                schema[f"rows of {table}"] = sorted(tuple(row) for row in rows)
        return schema
    finally:
        engine.dispose()


def _empty(url: str) -> None:
    command.downgrade(alembic_config(database_url=url), "base")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    finally:
        engine.dispose()
    assert _tables(url) == set()


def test_empty_database_shortcut_builds_the_migrated_schema(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade_to_head(url)  # whatever state the module's database is in: to head
    _empty(url)
    command.upgrade(alembic_config(database_url=url), "head")
    migrated = _schema(url)
    _empty(url)
    upgrade_to_head(url)  # the shortcut: no Alembic
    assert current_revision(url) == head_revision()
    assert _schema(url) == migrated
    upgrade_to_head(url)  # at head: nothing to do
    assert _schema(url) == migrated


def test_head_is_read_from_the_revision_files() -> None:
    from linkpay.wallet.store.migrations import head_from_files

    assert head_from_files() == head_revision()


def test_audit_entries_keep_verifying_across_the_chains_revision(empty_database_url: str) -> None:
    """Entries written with one chain (0008) verify after 0009_audit_chains, unchanged,
    and the next entry follows them (seq and chain 1's place)."""
    from datetime import UTC, datetime

    from linkpay.wallet import audit
    from linkpay.wallet.audit.chain import format_time
    from linkpay.wallet.store.db import make_sessionmaker, transaction

    url = empty_database_url
    upgrade_to_head(url)
    _empty(url)
    command.upgrade(alembic_config(database_url=url), "0008_outbox")
    engine = make_engine(url)
    try:
        prev = audit.GENESIS
        with engine.begin() as connection:
            for seq in (1, 2, 3):
                at = datetime(2026, 11, 1, 12, 0, seq, tzinfo=UTC)
                entry = {
                    "seq": seq,
                    "at": format_time(at),
                    "type": "test.old",
                    "actor": "system",
                    "subject": f"s{seq}",
                    "user_id": None,
                    "data": {},
                    "prev_hash": prev,
                }
                digest = audit.entry_hash(entry)
                connection.execute(
                    text(
                        "INSERT INTO audit_log (seq, at, type, actor, subject, data, prev_hash, "
                        "hash) VALUES (:seq, :at, 'test.old', 'system', :subject, '{}', :prev, :h)"
                    ),
                    {"seq": seq, "at": at, "subject": f"s{seq}", "prev": prev, "h": digest},
                )
                prev = digest
            connection.execute(text("UPDATE audit_head SET seq = 3, hash = :h"), {"h": prev})
        command.upgrade(alembic_config(database_url=url), "head")
        factory = make_sessionmaker(engine)
        with transaction(factory) as db:
            assert audit.verify(db).ok
            audit.record_event(db, "test.new", actor="system", subject="s4")
        with transaction(factory) as db:
            result = audit.verify(db)
            newest = audit.entries_for_subject(db, "s4")
        assert result.ok and result.entries == 4, result
        assert newest[0]["seq"] == 4 and newest[0]["prev_hash"] in (prev, audit.GENESIS)
    finally:
        engine.dispose()


def _sqlite_contents(path: Any) -> tuple[list[tuple[str, ...]], dict[str, list[tuple[Any, ...]]]]:
    import sqlite3

    with sqlite3.connect(path) as db:
        master = db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        rows = {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall())
            for (kind, name, _table, _sql) in master
            if kind == "table"
        }
    db.close()
    return master, rows


def test_prebuilt_sqlite_head_is_what_the_models_build(tmp_path: Any) -> None:
    """`sqlite_head.json` builds a fresh SQLite database; stale (a model or revision
    changed) it would fail here: `python -m linkpay.wallet.store.migrations sqlite-head`."""
    from linkpay.wallet.store.migrations import _create_at_head, head_from_files
    from linkpay.wallet.store.migrations.sqlite_head import prebuilt_statements

    head = head_from_files()
    assert head is not None
    hint = "stale: run `python -m linkpay.wallet.store.migrations sqlite-head`"
    assert prebuilt_statements(head) is not None, hint
    upgrade_to_head(f"sqlite:///{tmp_path / 'prebuilt.db'}")  # an empty file: prebuilt
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    with engine.begin() as connection:
        _create_at_head(connection, head)
    engine.dispose()
    prebuilt = _sqlite_contents(tmp_path / "prebuilt.db")
    assert prebuilt[1]["alembic_version"] == [(head,)]
    assert prebuilt == _sqlite_contents(tmp_path / "models.db"), hint
