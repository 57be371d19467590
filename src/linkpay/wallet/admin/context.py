"""What every `link-wallet` command shares: the global options, the wallet's settings,
a migrated database session, "whose wallet" resolution and the error type.

Heavy modules (SQLAlchemy, the wallet's services) are imported inside the methods, so
`link-wallet --help` and `--version` stay quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from linkpay.wallet.settings import Settings
    from linkpay.wallet.store.models import User


class AdminError(Exception):
    """A failure the command reports as `{code, message}` (exit 1)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AdminContext:
    """One `link-wallet` run: global options plus the lazily opened database."""

    format: str = "toon"
    database_url: str | None = None
    _settings: Settings | None = None
    _engines: list[Engine] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Settings:
        """The wallet's settings from `LINKPAY_*` plus `--database-url` and the given
        overrides (None values are ignored). Built once unless overrides are given."""
        from linkpay.wallet.settings import Settings

        given = {name: value for name, value in overrides.items() if value is not None}
        if self.database_url is not None:
            given["database_url"] = self.database_url
        if self._settings is None or overrides:
            self._settings = Settings.from_env(**given)
        return self._settings

    def session_factory(self) -> sessionmaker[Session]:
        """Migrate the database to head, then a sessionmaker bound to it."""
        from linkpay.wallet.app import open_store
        from linkpay.wallet.store.migrations import upgrade_to_head

        settings = self.settings()
        upgrade_to_head(settings.database_url)
        engine, factory = open_store(settings)
        self._engines.append(engine)
        return factory

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction on the migrated database (commit on success)."""
        from linkpay.wallet.store.db import transaction

        with transaction(self.session_factory()) as db:
            yield db

    def resolve_user(self, db: Session, email: str | None) -> User:
        """`--email`'s user; else the local owner; else the only user there is."""
        from sqlalchemy import select

        from linkpay.wallet import accounts
        from linkpay.wallet.store.models import User

        if email:
            user = accounts.find_user_by_email(db, email)
            if user is None:
                raise AdminError("NOT_FOUND", f"no user with email {email}")
            return user
        owner = accounts.find_user_by_email(db, self.settings().owner_email)
        if owner is not None:
            return owner
        users = db.scalars(select(User).limit(2)).all()
        if len(users) == 1:
            return users[0]
        if not users:
            raise AdminError(
                "NOT_FOUND", "no users yet; create one with `link-wallet user create --email …`"
            )
        raise AdminError("INVALID_INPUT", "several users exist; say which with --email")

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()
        self._engines.clear()


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable database URL)"
