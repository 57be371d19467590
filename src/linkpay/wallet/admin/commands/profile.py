"""`link-wallet profile show|set`: the person's name, phone and billing address (the
address issued cards carry)."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    group = App(name="profile", help="Show or change the person's profile.")
    app.command(group)

    @group.command(name="show")
    def show(*, email: str | None = None) -> dict[str, Any]:
        """Show name, email, phone and billing address.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import profile

        with ctx.session() as db:
            return profile.as_dict(ctx.resolve_user(db, email))

    @group.command(name="set")
    def set_(
        *,
        name: str | None = None,
        phone: str | None = None,
        billing_name: str | None = None,
        billing_line1: str | None = None,
        billing_line2: str | None = None,
        billing_city: str | None = None,
        billing_postal_code: str | None = None,
        billing_state: str | None = None,
        billing_country: str | None = None,
        clear_billing_address: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Change the profile (only what is given).

        Parameters
        ----------
        name
            Full name ("" clears it).
        phone
            Phone number ("" clears it).
        billing_name
            Name on the billing address (with the other --billing-* options).
        billing_line1
            Street and number.
        billing_line2
            Flat, floor, building.
        billing_city
            City or town.
        billing_postal_code
            Postal or ZIP code.
        billing_state
            State, region or province.
        billing_country
            Two-letter country code.
        clear_billing_address
            Remove the billing address (cards then use the default shipping address).
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import audit, profile

        parts = {
            "name": billing_name,
            "line_1": billing_line1,
            "line_2": billing_line2,
            "locality": billing_city,
            "postal_code": billing_postal_code,
            "administrative_area": billing_state,
            "country_code": billing_country,
        }
        given = {key: value for key, value in parts.items() if value is not None}
        if given and clear_billing_address:
            raise AdminError(
                "INVALID_INPUT", "--clear-billing-address cannot go with --billing-* options"
            )
        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            billing = {**(user.billing_address or {}), **given} if given else None
            updated = profile.update_profile(
                db,
                user.id,
                name=name,
                phone=phone,
                billing_address=billing,
                clear_billing_address=clear_billing_address,
                actor=audit.events.OPERATOR,
            )
            return profile.as_dict(updated)
