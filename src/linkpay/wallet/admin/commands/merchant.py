"""`link-wallet merchant …`: merchants on the wallet's offline test network."""

from __future__ import annotations

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext


def register(app: App, ctx: AdminContext) -> None:
    merchant = App(name="merchant", help="Test-network merchants.")
    app.command(merchant)

    @merchant.command(name="create")
    def create(*, name: str, url: str | None = None) -> dict[str, object]:
        """Create a test-network merchant and print its API key (shown only once).

        Parameters
        ----------
        name
            The merchant's name, as people see it on approvals.
        url
            The merchant's website.
        """
        from linkpay.wallet.network.merchants import create_merchant

        with ctx.session() as db:
            created, api_key = create_merchant(db, name=name, url=url)
            return {
                "id": created.id,
                "name": created.name,
                "network_id": created.network_id,
                "api_key": api_key,
                "note": "the API key is shown only now; store it safely",
            }
