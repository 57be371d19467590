"""`link-wallet approve|deny ID`: decide a spend request as the person it belongs to."""

from __future__ import annotations

from typing import Literal

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="approve")
    def approve(spend_request_id: str, /) -> dict[str, object]:
        """Approve a spend request as its person (issues the credential).

        Parameters
        ----------
        spend_request_id
            The lsrq_… id.
        """
        return _decide(ctx, spend_request_id, "approve")

    @app.command(name="deny")
    def deny(spend_request_id: str, /) -> dict[str, object]:
        """Deny a spend request as its person.

        Parameters
        ----------
        spend_request_id
            The lsrq_… id.
        """
        return _decide(ctx, spend_request_id, "deny")


def _decide(
    ctx: AdminContext, spend_request_id: str, decision: Literal["approve", "deny"]
) -> dict[str, object]:
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.models import SpendRequest

    with ctx.session() as db:
        row = db.get(SpendRequest, spend_request_id)
        if row is None:
            raise AdminError("NOT_FOUND", f"no spend request {spend_request_id}")
        if decision == "approve":
            row = service.approve_spend_request(
                db, user_id=row.user_id, spend_request_id=row.id, settings=ctx.settings()
            )
        else:
            row = service.deny_spend_request(db, user_id=row.user_id, spend_request_id=row.id)
        return {"id": row.id, "status": row.status, "amount": row.amount, "currency": row.currency}
