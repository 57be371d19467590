"""`link-wallet card …`: funding sources (from the shell, only the test card)."""

from __future__ import annotations

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    card = App(name="card", help="Manage funding sources.")
    app.command(card)

    @card.command(name="add")
    def add(*, test: bool = False, email: str | None = None) -> dict[str, object]:
        """Add a funding source.

        Parameters
        ----------
        test
            The test card 4242 4242 4242 4242 (the only kind the shell can add).
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import accounts

        if not test:
            raise AdminError(
                "INVALID_INPUT",
                "only test cards can be added from the shell: use --test "
                "(real cards are added in the wallet's web app)",
            )
        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            method = accounts.add_test_card(db, user_id=user.id)
            return {
                "id": method.id,
                "user": user.email,
                "card": f"{method.brand} •••• {method.last4}",
                "expires": f"{method.exp_month:02d}/{method.exp_year}",
                "default": method.is_default,
            }
