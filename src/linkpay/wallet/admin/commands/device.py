"""`link-wallet device approve|deny PHRASE`: answer an agent's login request."""

from __future__ import annotations

from typing import Literal

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext


def register(app: App, ctx: AdminContext) -> None:
    device = App(name="device", help="Answer an agent's login request.")
    app.command(device)

    @device.command(name="approve")
    def approve(phrase: str, /, *, email: str | None = None) -> dict[str, object]:
        """Let the agent showing PHRASE connect.

        Parameters
        ----------
        phrase
            The phrase the agent shows, e.g. "maple otter violin".
        email
            Whose wallet (default: the owner, or the only person).
        """
        return _decide(ctx, phrase, email, "approve")

    @device.command(name="deny")
    def deny(phrase: str, /, *, email: str | None = None) -> dict[str, object]:
        """Refuse the agent showing PHRASE.

        Parameters
        ----------
        phrase
            The phrase the agent shows, e.g. "maple otter violin".
        email
            Whose wallet (default: the owner, or the only person).
        """
        return _decide(ctx, phrase, email, "deny")


def _decide(
    ctx: AdminContext, phrase: str, email: str | None, decision: Literal["approve", "deny"]
) -> dict[str, object]:
    from linkpay.wallet.auth import device

    with ctx.session() as db:
        user = ctx.resolve_user(db, email)
        decide = device.approve_device_grant if decision == "approve" else device.deny_device_grant
        grant = decide(db, user_id=user.id, user_code=phrase)
        return {
            "status": grant.status,
            "user": user.email,
            "connection": grant.connection_label or grant.client_id,
            "scope": grant.scope,
        }
