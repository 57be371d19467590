"""`link-wallet migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, safe_url


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="migrate")
    def migrate() -> dict[str, object]:
        """Bring the database schema to the newest version (every command does this
        first; this one only reports the revision)."""
        from linkpay.wallet.store.migrations import current_revision, upgrade_to_head

        url = ctx.settings().database_url
        upgrade_to_head(url)
        return {"database": safe_url(url), "revision": current_revision(url)}
