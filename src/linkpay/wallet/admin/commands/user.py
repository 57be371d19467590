"""`link-wallet user …`: the people who own wallets."""

from __future__ import annotations

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext


def register(app: App, ctx: AdminContext) -> None:
    user = App(name="user", help="Manage people.")
    app.command(user)

    @user.command(name="create")
    def create(*, email: str, name: str | None = None) -> dict[str, object]:
        """Create a person.

        Parameters
        ----------
        email
            Their email address (unique, case-insensitive).
        name
            Their name, as shown in the wallet.
        """
        from linkpay.wallet import accounts

        with ctx.session() as db:
            created = accounts.create_user(db, email=email, name=name)
            return {"id": created.id, "email": created.email, "name": created.name}
