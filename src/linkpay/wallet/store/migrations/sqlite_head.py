"""An empty SQLite database at head from prebuilt statements (`sqlite_head.json`)
instead of `create_all`: compiling and checking ~40 tables' DDL was ~25-50 ms of every
fresh start (`link-wallet serve` on a new data dir, each embedded wallet, the demo).

The statements are what SQLite itself stores for a database built from the models
(`sqlite3`'s `iterdump`: tables, indexes, the seeded rows, Alembic's version row).
`python -m linkpay.wallet.store.migrations sqlite-head` rewrites the file;
`tests/wallet/test_migrations.py` fails while it differs from the models. A file for
another head (a new revision not yet prebuilt) is ignored: `create_all` then.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

from linkpay.wallet.store.migrations import HERE

PREBUILT = HERE / "sqlite_head.json"


def prebuilt_statements(head: str) -> list[str] | None:
    """The statements that build `head`, or None (no file, another head, unreadable)."""
    try:
        data = json.loads(PREBUILT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("head") != head:
        return None
    statements = data.get("statements")
    if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
        return None
    return statements


def statements_from_models() -> tuple[str, list[str]]:
    """(head, statements) of a scratch database built from the models."""
    from linkpay.wallet.store.db import make_engine
    from linkpay.wallet.store.migrations import _create_at_head, head_from_files

    head = head_from_files()
    if head is None:
        raise RuntimeError("the head revision is not plain; nothing to prebuild")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scratch.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as connection:
                _create_at_head(connection, head)
        finally:
            engine.dispose()
        with sqlite3.connect(path) as scratch:
            dumped = list(scratch.iterdump())
        scratch.close()
    return head, [s for s in dumped if s not in ("BEGIN TRANSACTION;", "COMMIT;")]


def write() -> Path:
    head, statements = statements_from_models()
    text = json.dumps({"head": head, "statements": statements}, indent=1) + "\n"
    PREBUILT.write_text(text, encoding="utf-8")
    return PREBUILT
