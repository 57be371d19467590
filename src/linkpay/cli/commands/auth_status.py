"""`auth status`: whether link-cli is logged in, with which access; with --interval it
finishes a pending login (what `auth login` tells the agent to run next)."""

from typing import Any

from linkpay.cli.commands.auth import PollFlags, finish_pending
from linkpay.cli.login_state import load_pending, pending_path, token_view
from linkpay.cli.registry import Context, command


class StatusInput(PollFlags):
    """Whether link-cli is logged in, and with which access (a token prefix, its type,
    where it is stored, scope). `update` appears when a newer link-cli is released."""


def _with_update(view: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from linkpay.cli.update_check import update_info

    update = update_info()
    if update:
        view["update"] = update
    return view


@command("auth", "status", input=StatusInput, read_only=True)
def status(inp: StatusInput, ctx: Context) -> Any:
    from linkpay.client.errors import ApiError, NotAuthenticated

    link = ctx.link()
    pending = load_pending(pending_path(ctx))
    waiting = pending is not None and (
        link.tokens is None or bool(pending.get("replaces_existing_session"))
    )
    if waiting and pending is not None:
        from linkpay.client.errors import PollingTimeout

        polling = inp.interval > 0
        try:  # without --interval: one look, in case the person approved already
            return _with_update(
                finish_pending(
                    ctx,
                    pending,
                    interval=inp.interval,
                    max_attempts=(inp.max_attempts or None) if polling else 1,
                    timeout=inp.timeout,
                ),
                ctx,
            )
        except PollingTimeout as exc:
            if polling:
                exc.extra["_next"] = ctx.next_step(("auth", "status"), interval=5, max_attempts=60)
                raise
    view = token_view(ctx)
    if link.tokens is not None:
        try:
            link.user_info.retrieve()  # proves the token works (refreshing it if needed)
            view = token_view(ctx)
        except NotAuthenticated as exc:
            view = {k: v for k, v in token_view(ctx).items() if k != "access_token"}
            view.update({"authenticated": False, "message": exc.message})
        except ApiError:
            pass  # the wallet answered, only not this call (scope): the session lives
    if not view["authenticated"]:
        if waiting and pending is not None:
            view.update(
                {
                    "pending": True,
                    "verification_url": pending["verification_uri_complete"],
                    "phrase": pending["user_code"],
                    "_next": ctx.next_step(("auth", "status"), interval=5, max_attempts=60),
                }
            )
        else:
            view["instruction"] = "Log in first; the person approves the login in their wallet."
            view["_next"] = ctx.next_step(("auth", "login"))
    return _with_update(view, ctx)
