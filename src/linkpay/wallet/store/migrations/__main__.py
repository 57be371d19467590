"""Maintenance commands for the migrations (developers only).

python -m linkpay.wallet.store.migrations regenerate-initial
    Rewrite versions/0001_initial.py from store/models.py (allowed until release).
python -m linkpay.wallet.store.migrations revision --rev-id 0002_web -m "web tables"
    Autogenerate a new revision against a scratch SQLite database at head.
python -m linkpay.wallet.store.migrations sqlite-head
    Rewrite sqlite_head.json (a fresh SQLite database's statements) from the models;
    run it after every model or revision change (tests/wallet/test_migrations.py fails
    until you do).
python -m linkpay.wallet.store.migrations check [DATABASE_URL]
    Upgrade (a scratch SQLite database by default) and fail if models and
    migrations differ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.util.exc import CommandError

from linkpay.wallet.store.migrations import HERE, alembic_config, upgrade_to_head

INITIAL = "0001_initial"


def _scratch_url(tmp: str) -> str:
    return f"sqlite:///{Path(tmp) / 'scratch.db'}"


def regenerate_initial() -> None:
    target = HERE / "versions" / f"{INITIAL}.py"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command.revision(
            alembic_config(database_url=_scratch_url(tmp), only_core=True),
            message="initial schema",
            autogenerate=True,
            rev_id=INITIAL,
            head="base",
        )
    print(f"wrote {target}")


def revision(rev_id: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = _scratch_url(tmp)
        upgrade_to_head(url)
        command.revision(
            alembic_config(database_url=url), message=message, autogenerate=True, rev_id=rev_id
        )


def check(url: str | None, *, core_only: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or _scratch_url(tmp)
        upgrade_to_head(url)
        command.check(alembic_config(database_url=url, only_core=core_only))
    print("models and migrations agree")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linkpay.wallet.store.migrations")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("regenerate-initial")
    sub.add_parser("sqlite-head")
    rev = sub.add_parser("revision")
    rev.add_argument("--rev-id", required=True)
    rev.add_argument("-m", "--message", required=True)
    chk = sub.add_parser("check")
    chk.add_argument("database_url", nargs="?")
    chk.add_argument("--core-only", action="store_true", help="ignore the web app's tables")
    args = parser.parse_args(argv)
    try:
        if args.command == "regenerate-initial":
            regenerate_initial()
        elif args.command == "sqlite-head":
            from linkpay.wallet.store.migrations.sqlite_head import write

            print(f"wrote {write()}")
        elif args.command == "revision":
            revision(args.rev_id, args.message)
        else:
            check(args.database_url, core_only=args.core_only)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
