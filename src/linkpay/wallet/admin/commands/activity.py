"""`link-wallet activity`: what happened in the wallet, newest first, from the audit
log (who asked, who decided, what was charged)."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="activity")
    def activity(
        *, limit: int = 50, before: int | None = None, email: str | None = None
    ) -> list[dict[str, Any]]:
        """Show the person's activity, newest first.

        Parameters
        ----------
        limit
            How many entries (1-500).
        before
            Only entries older than this seq (to page back).
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet.activity import activity_items

        if not 1 <= limit <= 500:
            raise AdminError("INVALID_INPUT", "--limit: between 1 and 500")
        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            return [
                item.as_dict()
                for item in activity_items(db, user.id, limit=limit, before_seq=before)
            ]
