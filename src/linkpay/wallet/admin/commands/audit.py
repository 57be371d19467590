"""`link-wallet audit verify|export`: check and copy the tamper-evident audit log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    group = App(name="audit", help="Check or export the hash-chained audit log.")
    app.command(group)

    @group.command(name="verify")
    def verify(*, file: Path | None = None) -> dict[str, Any]:
        """Recompute the chain; fails (AUDIT_BROKEN) naming the first broken entry.

        Parameters
        ----------
        file
            Check an exported JSONL copy instead of the wallet's database.
        """
        from linkpay.wallet import audit

        if file is not None:
            try:
                with file.open(encoding="utf-8") as lines:
                    result = audit.verify_entries(audit.read_jsonl(lines))
            except OSError as exc:
                raise AdminError("INVALID_INPUT", f"cannot read {file}: {exc.strerror}") from None
        else:
            with ctx.session() as db:
                result = audit.verify(db)
        if not result.ok:
            raise AdminError("AUDIT_BROKEN", f"entry {result.broken_seq}: {result.reason}")
        return {
            "ok": True,
            "entries": result.entries,
            "chains": result.chains,
            "head_hash": result.head_hash,
        }

    @group.command(name="export")
    def export(*, output: Path | None = None) -> dict[str, Any] | None:
        """Write every entry as JSON lines (to stdout, or to --output).

        Parameters
        ----------
        output
            A file to write (created or replaced, mode 0600).
        """
        from linkpay.wallet import audit

        with ctx.session() as db:
            if output is None:
                audit.export_jsonl(db, sys.stdout)
                return None
            try:
                output.touch(mode=0o600)
                with output.open("w", encoding="utf-8") as out:
                    count = audit.export_jsonl(db, out)
            except OSError as exc:
                raise AdminError(
                    "INVALID_INPUT", f"cannot write {output}: {exc.strerror}"
                ) from None
        return {"file": str(output), "entries": count}
