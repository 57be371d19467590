"""`link-wallet limits show|set` and `pause|resume`: how much one purchase may ask
for, and "stop everything"."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def _state(user: Any) -> dict[str, Any]:
    return {
        "user": user.email,
        "max_amount_per_request": user.max_amount_per_request,
        "max_per_request": f"{user.max_amount_per_request / 100:.2f}",
        "spending_paused": bool(user.spending_paused),
    }


def register(app: App, ctx: AdminContext) -> None:
    group = App(name="limits", help="Show or set the per-request limit.")
    app.command(group)

    @group.command(name="show")
    def show(*, email: str | None = None) -> dict[str, Any]:
        """Show the per-request limit and whether spending is paused.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        with ctx.session() as db:
            return _state(ctx.resolve_user(db, email))

    @group.command(name="set")
    def set_(*, max_per_request: str, email: str | None = None) -> dict[str, Any]:
        """Set the most one purchase may ask for.

        Parameters
        ----------
        max_per_request
            An amount like 120 or 120.50 (at most 500.00).
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import audit
        from linkpay.wallet.web import account

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            try:
                cents = account.parse_amount(max_per_request)
                account.set_request_limit(db, user.id, cents, actor=audit.events.OPERATOR)
            except ValueError as exc:
                raise AdminError("INVALID_INPUT", f"--max-per-request: {exc}") from None
            db.refresh(user)
            return _state(user)

    @app.command(name="pause")
    def pause(*, email: str | None = None) -> dict[str, Any]:
        """Stop everything: deny waiting purchases, void unused cards, refuse new ones.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import audit
        from linkpay.wallet.spend.service import pause_spending

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            pause_spending(db, user.id, actor=audit.events.OPERATOR)
            db.refresh(user)
            return _state(user)

    @app.command(name="resume")
    def resume(*, email: str | None = None) -> dict[str, Any]:
        """Let agents ask for purchases again after `pause`.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import audit
        from linkpay.wallet.spend.service import resume_spending

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            resume_spending(db, user.id, actor=audit.events.OPERATOR)
            db.refresh(user)
            return _state(user)
