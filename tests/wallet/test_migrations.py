"""Alembic: fresh databases upgrade to head, models and migrations agree, and the
downgrade path works, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

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
    upgrade_to_head(database_url)
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
