"""Alembic environment: runs against the connection handed in by
`linkpay.wallet.store.migrations` (or a `database_url` attribute)."""

from typing import Literal

from alembic import context
from sqlalchemy.engine import Connection

from linkpay.wallet.store import (  # noqa: F401  (registers all tables)
    audit_models,
    capacity_models,
    issuer_models,
    models,
    policy_models,
    web_models,
)
from linkpay.wallet.store.db import make_engine

config = context.config
target_metadata = models.Base.metadata


def _core_table_names() -> set[str]:
    return {
        mapper.class_.__tablename__
        for mapper in models.Base.registry.mappers
        if mapper.class_.__module__ == models.__name__
    }


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """`only_core` (regenerating 0001_initial) keeps the web app's tables out."""
    if config.attributes.get("only_core") and type_ == "table":
        return name in _core_table_names()
    return True


def render_item(type_: str, obj: object, autogen_context: object) -> str | Literal[False]:
    """Render our TypeDecorator as its plain implementation: migrations must not import
    the live models module."""
    if type_ == "type" and isinstance(obj, models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object,
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.attributes["database_url"])
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()
