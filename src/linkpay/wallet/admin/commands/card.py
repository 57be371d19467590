"""`link-wallet card …`: funding sources (from the shell, only the test card)."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    card = App(name="card", help="Manage funding sources.")
    app.command(card)

    @card.command(name="add")
    def add(
        *, test: bool = False, brand: str | None = None, email: str | None = None
    ) -> dict[str, object]:
        """Add a funding source.

        Parameters
        ----------
        test
            A Stripe test card (the only kind the shell can add): Visa 4242 first, then
            the next test card not in the wallet yet.
        brand
            Which test card: visa, mastercard, amex or discover.
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
            method = accounts.add_test_card(db, user_id=user.id, brand=brand)
            return {"user": user.email, **_card(method)}

    @card.command(name="list")
    def list_(*, email: str | None = None) -> list[dict[str, object]]:
        """List funding sources, the default first (removed ones are not shown).

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet.payment_methods import active_methods

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            return [_card(method) for method in active_methods(db, user.id)]

    @card.command(name="remove")
    def remove(card_id: str, /, *, email: str | None = None) -> dict[str, object]:
        """Remove a funding source (refused while a purchase still uses it).

        Parameters
        ----------
        card_id
            The csmrpd_… id (see `card list`).
        """
        from linkpay.wallet import audit
        from linkpay.wallet.payment_methods import remove_method

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            method = remove_method(db, user.id, card_id, actor=audit.events.OPERATOR)
            return {"id": method.id, "removed": True}

    @card.command(name="default")
    def default(card_id: str, /, *, email: str | None = None) -> dict[str, object]:
        """Make a funding source the default (what agents' purchases use).

        Parameters
        ----------
        card_id
            The csmrpd_… id (see `card list`).
        """
        from linkpay.wallet import audit
        from linkpay.wallet.payment_methods import set_default_method

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            return _card(set_default_method(db, user.id, card_id, actor=audit.events.OPERATOR))


def _card(method: Any) -> dict[str, object]:
    return {
        "id": method.id,
        "card": f"{method.brand} •••• {method.last4}",
        "expires": f"{method.exp_month:02d}/{method.exp_year}",
        "default": method.is_default,
    }
