"""Alembic migrations, shipped inside the package so `link-wallet serve|migrate` and the
embedded wallet can upgrade any database to head without an alembic.ini.

See README.md here for the regenerate commands (`python -m linkpay.wallet.store.migrations`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def alembic_config(**attributes: Any) -> Any:
    """An Alembic Config pointing at this directory; `attributes` reach env.py
    (`connection`, or `database_url`)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.set_main_option("file_template", "%%(rev)s")
    config.set_main_option("path_separator", "os")  # the only non-deprecated choice
    config.attributes.update(attributes)
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest schema (idempotent)."""
    from alembic import command

    from linkpay.wallet.store.db import make_engine

    ensure_sqlite_directory(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
    finally:
        engine.dispose()


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
