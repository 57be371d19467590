"""One module per `link-wallet` command group, discovered at start-up (sorted by name).

Each module defines `register(app, ctx)` and adds its commands to the root cyclopts
`App`, either directly or as a sub-app:

    from cyclopts import App

    from linkpay.wallet.admin.context import AdminContext, AdminError


    def register(app: App, ctx: AdminContext) -> None:
        group = App(name="thing", help="Manage things.")
        app.command(group)

        @group.command(name="create")
        def create(*, name: str, email: str | None = None) -> dict[str, object]:
            \"\"\"Create a thing.

            Parameters
            ----------
            name
                What to call it.
            \"\"\"
            from linkpay.wallet import things  # heavy imports inside the command

            with ctx.session() as db:
                user = ctx.resolve_user(db, email)
                thing = things.create(db, user_id=user.id, name=name)
                return {"id": thing.id, "name": thing.name}

Return a dict/list (printed in the chosen `--format`) or None; raise
`AdminError(CODE, message)` for failures. Keyword-only parameters become `--flags`,
positional ones arguments; a `bool` is a flag without a `--no-` form.
"""
