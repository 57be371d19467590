"""`link-wallet agents list|revoke`: the agents connected to the wallet."""

from __future__ import annotations

from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext


def register(app: App, ctx: AdminContext) -> None:
    group = App(name="agents", help="List or disconnect connected agents.")
    app.command(group)

    @group.command(name="list")
    def list_(*, all: bool = False, email: str | None = None) -> list[dict[str, Any]]:
        """List connected agents, newest first, with how many purchases each asked for.

        Parameters
        ----------
        all
            Include disconnected agents too.
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet.connections import agent_summaries

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            agents = sorted(
                agent_summaries(db, user.id).values(),
                key=lambda a: a.connected_at,
                reverse=True,
            )
            return [a.as_dict() for a in agents if all or not a.revoked]

    @group.command(name="revoke")
    def revoke(agent_id: str, /, *, email: str | None = None) -> dict[str, Any]:
        """Disconnect an agent: its tokens stop working at once.

        Parameters
        ----------
        agent_id
            The agent's id from `agents list`.
        """
        from linkpay.wallet import audit
        from linkpay.wallet.auth.tokens import revoke_family

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            revoke_family(db, user_id=user.id, family_id=agent_id, actor=audit.events.OPERATOR)
            return {"id": agent_id, "revoked": True}
