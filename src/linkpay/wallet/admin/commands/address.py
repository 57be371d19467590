"""`link-wallet address …`: the person's shipping addresses (what agents ship to)."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext


def _fields(**given: str | None) -> dict[str, Any]:
    return {name: value for name, value in given.items() if value is not None}


def register(app: App, ctx: AdminContext) -> None:
    group = App(name="address", help="Manage shipping addresses (agents ship to the default).")
    app.command(group)

    @group.command(name="list")
    def list_(*, email: str | None = None) -> list[dict[str, Any]]:
        """List shipping addresses, the default first.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import addresses

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            return [addresses.as_dict(row) for row in addresses.list_addresses(db, user.id)]

    @group.command(name="add")
    def add(
        *,
        name: str,
        line1: str,
        city: str,
        country: str,
        line2: str | None = None,
        postal_code: str | None = None,
        state: str | None = None,
        nickname: str | None = None,
        default: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Add a shipping address (the first one becomes the default).

        Parameters
        ----------
        name
            Who receives the parcel.
        line1
            Street and number.
        city
            City or town.
        country
            Two-letter country code, like US or DE.
        line2
            Flat, floor, building.
        postal_code
            Postal or ZIP code.
        state
            State, region or province.
        nickname
            A short label, like Home.
        default
            Make it the default address.
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import addresses, audit

        fields = _fields(
            name=name,
            line_1=line1,
            line_2=line2,
            locality=city,
            postal_code=postal_code,
            administrative_area=state,
            country_code=country,
        )
        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            row = addresses.add_address(
                db,
                user.id,
                fields,
                nickname=nickname,
                make_default=default,
                actor=audit.events.OPERATOR,
            )
            return addresses.as_dict(row)

    @group.command(name="edit")
    def edit(
        address_id: str,
        /,
        *,
        name: str | None = None,
        line1: str | None = None,
        line2: str | None = None,
        city: str | None = None,
        postal_code: str | None = None,
        state: str | None = None,
        country: str | None = None,
        nickname: str | None = None,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Change a shipping address (only the fields given; "" clears an optional one).

        Parameters
        ----------
        address_id
            The shad_… id (see `address list`).
        """
        from linkpay.wallet import addresses, audit

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            row = addresses.get_address(db, user.id, address_id)
            fields = {
                **(row.address or {}),
                **_fields(
                    name=name,
                    line_1=line1,
                    line_2=line2,
                    locality=city,
                    postal_code=postal_code,
                    administrative_area=state,
                    country_code=country,
                ),
            }
            updated = addresses.update_address(
                db,
                user.id,
                address_id,
                fields,
                nickname=row.nickname if nickname is None else nickname,
                actor=audit.events.OPERATOR,
            )
            return addresses.as_dict(updated)

    @group.command(name="remove")
    def remove(address_id: str, /, *, email: str | None = None) -> dict[str, Any]:
        """Remove a shipping address (the oldest remaining becomes the default).

        Parameters
        ----------
        address_id
            The shad_… id (see `address list`).
        """
        from linkpay.wallet import addresses, audit

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            row = addresses.remove_address(db, user.id, address_id, actor=audit.events.OPERATOR)
            return {"id": row.id, "removed": True}

    @group.command(name="default")
    def default(address_id: str, /, *, email: str | None = None) -> dict[str, Any]:
        """Make a shipping address the default.

        Parameters
        ----------
        address_id
            The shad_… id (see `address list`).
        """
        from linkpay.wallet import addresses, audit

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            row = addresses.set_default_address(
                db, user.id, address_id, actor=audit.events.OPERATOR
            )
            return addresses.as_dict(row)
