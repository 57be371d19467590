"""`auth login|upgrade|logout`: the device login (RFC 8628) from the agent side.

`auth login` without --interval prints the code and returns; `_next` is
`auth status --interval 5 --max-attempts 60`, which finishes the pending login (kept
next to the token file, see cli/login_state.py). `auth login --interval N` resumes the
same pending login instead of starting a new one. A saved session that no longer works
(revoked by the person) is dropped and a new login starts.
"""

import time
from typing import Annotated, Any, Literal

from pydantic import Field

from linkpay.cli.login_state import (
    authorization_details,
    clear_pending,
    load_pending,
    pending_path,
    save_pending,
    token_view,
)
from linkpay.cli.registry import CommandError, CommandInput, Context, Flag, command

MCP_MAX_WAIT_SECONDS = 25
SourceAction = Literal[
    "read_balances", "read_external_transactions", "read_link_transactions", "read_source_details"
]


class PollFlags(CommandInput):
    interval: float = Field(
        default=0,
        ge=0,
        le=60,
        description="When > 0: poll every S seconds until logged in (exit 0), denied or "
        "expired (exit 1)",
    )
    max_attempts: int = Field(
        default=0, ge=0, description="Give up after this many polls; 0 = unlimited (use timeout)"
    )
    timeout: float = Field(default=300, gt=0, le=3600, description="Stop polling after S seconds")


class LoginInput(PollFlags):
    """Log in to the person's wallet with a device code they approve."""

    client_name: str = Field(
        default="Link CLI",
        min_length=1,
        max_length=80,
        description='Shown to the person as "NAME on HOSTNAME"',
    )
    scope: str | None = Field(
        default=None,
        description="Space-separated scopes (default: userinfo:read payment_methods.agentic)",
    )
    source_actions: Annotated[list[SourceAction] | None, Flag()] = Field(
        default=None,
        description="Repeatable source access to ask for: read_balances, "
        "read_external_transactions, read_link_transactions, read_source_details",
    )
    authorization_detail: list[str] | None = Field(
        default=None, description="Repeatable raw JSON authorization_details entry"
    )


class UpgradeInput(LoginInput):
    """Ask for more access: the union of the current and the requested scopes. The old
    session keeps working until the new one is approved. Without a working session it
    warns and continues with only the requested access."""


def _code_view(pending: dict[str, Any], ctx: Context, warning: str | None) -> dict[str, Any]:
    view: dict[str, Any] = {"warning": warning} if warning else {}
    view.update(
        {
            "verification_url": pending["verification_uri_complete"],
            "verification_url_complete": pending["verification_uri_complete"],
            "verification_uri": pending["verification_uri"],
            "phrase": pending["user_code"],
            "expires_in": max(0, int(pending["expires_at"] - time.time())),
            "instruction": (
                f"Ask the person to open {pending['verification_uri_complete']} , check that "
                f'the phrase shown is "{pending["user_code"]}", and approve. Then poll at once; '
                "do not wait for the person to reply."
            ),
        }
    )
    hint = ctx.next_step(("auth", "status"), interval=5, max_attempts=60)
    hint["poll_interval_seconds"] = pending["interval"]
    hint["until"] = "authenticated is true"
    view["_next"] = hint
    return view


def finish_pending(
    ctx: Context,
    pending: dict[str, Any],
    *,
    interval: float,
    max_attempts: int | None,
    timeout: float,
) -> dict[str, Any]:
    """Poll the pending login until approved; store the tokens (revoking the session an
    upgrade replaces). Raises DeviceLoginError (denied/expired) or PollingTimeout."""
    from linkpay.client.device import connection_label
    from linkpay.client.errors import DeviceLoginError, LinkError

    link = ctx.link()
    path = pending_path(ctx)
    timeout = min(timeout, pending["expires_at"] - time.time())
    if ctx.mode == "mcp":
        timeout = min(timeout, MCP_MAX_WAIT_SECONDS)
    previous = link.tokens if pending.get("replaces_existing_session") else None
    try:
        response = link.device.poll(
            pending["device_code"],
            interval=max(interval, float(pending["interval"])),
            timeout=max(timeout, 0.1),
            max_attempts=max_attempts,
        )
    except DeviceLoginError:
        clear_pending(path)
        raise
    clear_pending(path)
    link.save_login(response, client_name=pending.get("client_name"))
    if previous is not None and previous.refresh_token:
        try:  # the wider session replaces the old one
            link.device.revoke(previous.refresh_token)
        except LinkError:
            pass
    view = token_view(ctx)
    view["connection"] = connection_label(pending.get("client_name") or "Link CLI")
    view["message"] = "Access widened." if previous is not None else "Logged in."
    return view


def _device_flow(
    inp: LoginInput, ctx: Context, scope: str, details: Any, *, replaces: bool, warning: str | None
) -> Any:
    from linkpay.client.errors import PollingTimeout

    link = ctx.link()
    path = pending_path(ctx)
    pending = load_pending(path)
    wanted = {"scope": scope, "client_name": inp.client_name, "authorization_details": details}
    if pending is None or any(pending.get(key) != value for key, value in wanted.items()):
        code = link.device.start(
            client_name=inp.client_name, scope=scope, authorization_details=details
        )
        pending = {
            "device_code": code.device_code,
            "user_code": code.user_code,
            "verification_uri": code.verification_uri,
            "verification_uri_complete": code.verification_uri_complete,
            "interval": code.interval,
            "expires_at": time.time() + code.expires_in,
            "replaces_existing_session": replaces,
            **wanted,
        }
        save_pending(ctx, pending)
    view = _code_view(pending, ctx, warning)
    interval = inp.interval or (float(pending["interval"]) if ctx.human else 0)
    if not interval:
        return view
    shown = {k: v for k, v in view.items() if k != "_next"}
    if ctx.human:
        from linkpay.cli.output.tty import show_link

        show_link(view["verification_url_complete"], "Open this to approve", ctx.stderr)
        print(f"Check that the wallet shows the phrase: {view['phrase']}", file=ctx.stderr)
    elif ctx.streaming and ctx.emit is not None:
        ctx.emit(shown)
    elif ctx.mode == "cli" and ctx.notice is not None:
        ctx.notice(shown)
    try:
        return finish_pending(
            ctx,
            pending,
            interval=interval,
            max_attempts=inp.max_attempts or None,
            timeout=inp.timeout,
        )
    except PollingTimeout as exc:
        if ctx.mode == "mcp":
            view["instruction"] = "Not approved yet. " + view["instruction"]
            return view
        exc.extra["_next"] = view["_next"]
        raise


def _session_works(ctx: Context) -> bool:
    """Whether the saved session is still accepted (refreshing it proves that)."""
    from linkpay.client.errors import ApiError, NotAuthenticated

    link = ctx.link()
    tokens = link.tokens
    if tokens is None:
        return False
    try:
        if tokens.refresh_token and link.store.refresh_enabled:
            link.http.refresh()
        else:
            link.user_info.retrieve()
    except NotAuthenticated:
        return False
    except ApiError:
        return True  # answered, just not this call (e.g. a scope): the session lives
    return True


def _drop_dead_session(ctx: Context) -> None:
    link = ctx.link()
    if link.store.from_env:
        raise CommandError(
            "NOT_AUTHENTICATED",
            "LINK_ACCESS_TOKEN is set but the wallet no longer accepts it; unset it (and "
            "LINK_REFRESH_TOKEN), then run `link-cli auth login`.",
        )
    link.logout()  # best-effort revoke, then forget it locally
    clear_pending(pending_path(ctx))


@command("auth", "login", input=LoginInput)
def login(inp: LoginInput, ctx: Context) -> Any:
    from linkpay.client.device import DEFAULT_SCOPE

    details = authorization_details(inp.source_actions, inp.authorization_detail)
    if ctx.link().tokens is not None:
        if _session_works(ctx):
            return {
                "authenticated": True,
                "message": "Already logged in. Use `link-cli auth upgrade` to widen access, or "
                "`link-cli auth logout` first to switch accounts.",
            }
        _drop_dead_session(ctx)
    scope = inp.scope or DEFAULT_SCOPE
    return _device_flow(inp, ctx, scope, details, replaces=False, warning=None)


@command("auth", "upgrade", input=UpgradeInput)
def upgrade(inp: UpgradeInput, ctx: Context) -> Any:
    from linkpay.client.device import DEFAULT_SCOPE

    details = authorization_details(inp.source_actions, inp.authorization_detail)
    tokens = ctx.link().tokens
    wanted = (inp.scope or DEFAULT_SCOPE).split()
    warning = None
    replaces = False
    if tokens is not None and _session_works(ctx):
        tokens = ctx.link().tokens
        current = ((tokens.scope if tokens else None) or "").split()
        scope = " ".join(dict.fromkeys([*current, *wanted]))
        current_details = list((tokens.authorization_details if tokens else None) or [])
        merged = current_details + [d for d in details or [] if d not in current_details]
        details = merged or None
        replaces = True
    else:
        if tokens is not None:
            _drop_dead_session(ctx)
        warning = "no active session to upgrade; continuing with only the requested access."
        print(f"warning: {warning}", file=ctx.stderr)
        scope = " ".join(dict.fromkeys(wanted))
    return _device_flow(inp, ctx, scope, details, replaces=replaces, warning=warning)


class LogoutInput(CommandInput):
    """Revoke the session at the wallet and delete the local credentials."""


@command("auth", "logout", input=LogoutInput, destructive=True)
def logout(inp: LogoutInput, ctx: Context) -> Any:
    link = ctx.link()
    had_tokens = link.tokens is not None
    revoked = link.logout()
    clear_pending(pending_path(ctx))
    return {
        "authenticated": False,
        "revoked": revoked,
        "message": "Logged out." if had_tokens else "Was not logged in.",
    }
