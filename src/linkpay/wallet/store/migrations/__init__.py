"""Alembic migrations, shipped inside the package so `link-wallet serve|migrate` and the
embedded wallet can upgrade any database to head without an alembic.ini.

See README.md here for the regenerate commands (`python -m linkpay.wallet.store.migrations`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def alembic_config(**attributes: Any) -> Any:
    """An Alembic Config pointing at this directory; `attributes` reach env.py
    (`connection`, or `database_url`)."""
    import sys

    from alembic.config import Config

    # Today's stdout: Config's default is whatever sys.stdout was when alembic was first
    # imported (a replaced stream may be closed since).
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.set_main_option("file_template", "%%(rev)s")
    config.set_main_option("path_separator", "os")  # the only non-deprecated choice
    config.attributes.update(attributes)
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest schema (idempotent).

    Alembic (about a quarter of a second of every start: its import, reading each
    revision, running them) is only needed in between: a database already at head is
    left as it is, and an empty one is built in one step from the models (`create_all`
    with the rows the revisions seed, see `audit_models`) and stamped at head.
    `tests/wallet/test_migrations.py` checks that this builds the schema the revisions
    build."""
    from linkpay.wallet.store.db import make_engine

    ensure_sqlite_directory(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            head = head_from_files()
            state = _state(connection, head)
            if state == "at_head":
                return
            if state == "empty" and head is not None:
                _build_at_head(connection, head)
                return
            from alembic import command

            command.upgrade(alembic_config(connection=connection), "head")
    finally:
        engine.dispose()


_REVISION = re.compile(r"^revision\b[^=\n]*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"^down_revision\b[^=\n]*=\s*(?:None|['\"]([^'\"]+)['\"])\s*$", re.MULTILINE
)


def head_from_files() -> str | None:
    """The head revision, read from the revision files' text (no Alembic import), or
    None when that is not plain (a merge, a branch, an unusual spelling): then Alembic
    decides."""
    revisions: dict[str, str | None] = {}
    for path in (HERE / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None
        revisions[revision.group(1)] = down.group(1)
    heads = set(revisions) - {down for down in revisions.values() if down}
    if len(heads) != 1 or sum(down is None for down in revisions.values()) != 1:
        return None
    return heads.pop()


def _state(connection: Any, head: str | None) -> str:
    """ "empty" (no tables at all), "at_head", or "other" (Alembic's job)."""
    from sqlalchemy import inspect, text

    names = inspect(connection).get_table_names()
    if not names:
        return "empty"
    if head is not None and "alembic_version" in names:
        stamped = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        if [row[0] for row in stamped] == [head]:
            return "at_head"
    return "other"


def _build_at_head(connection: Any, head: str) -> None:
    """SQLite: the prebuilt statements of `sqlite_head.json` when they are for `head`;
    otherwise (and on PostgreSQL) the models' `create_all`."""
    statements = None
    if connection.dialect.name == "sqlite":
        from linkpay.wallet.store.migrations.sqlite_head import prebuilt_statements

        statements = prebuilt_statements(head)
    if statements is None:
        _create_at_head(connection, head)
        return
    for statement in statements:
        connection.exec_driver_sql(statement)


def _create_at_head(connection: Any, head: str) -> None:
    """Every table from the models, and Alembic's version table (as Alembic makes it)
    holding `head`."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, insert

    from linkpay.wallet.store import (  # noqa: F401 (registers all tables)
        audit_models,
        capacity_models,
        issuer_models,
        models,
        policy_models,
        web_models,
    )

    models.Base.metadata.create_all(connection)
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(insert(version).values(version_num=head))


def ensure_sqlite_directory(database_url: str) -> None:
    """Create the directory (0700) and file (0600) of a SQLite file URL before SQLite
    does, so neither is readable by other users (the default lives in a data dir that
    may not exist yet)."""
    from sqlalchemy.engine import make_url

    from linkpay.wallet.store.file_modes import secure_sqlite_file

    url = make_url(database_url)
    database = url.database
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        if "mode=memory" not in database_url and not database.startswith("file:"):
            secure_sqlite_file(Path(database))


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from linkpay.wallet.store.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
