"""`link-wallet receipt ID`: one purchase's receipt (who asked, in its words; who
approved, with the approval hash; what was charged, by whom and when)."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="receipt")
    def receipt(spend_request_id: str, /, *, email: str | None = None) -> dict[str, Any]:
        """Show the receipt of a purchase.

        Parameters
        ----------
        spend_request_id
            The lsrq_… id.
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet.receipts import build_receipt

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            return build_receipt(db, user.id, spend_request_id)
