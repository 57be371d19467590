"""`auth login|status|logout|upgrade`: the device login (RFC 8628) from the agent side.

`auth login` without --interval prints the code and returns (`_next` polls). The pending
login (device code, phrase, expiry) is kept next to the token file (mode 0600) so that
`auth login --interval N` resumes polling the same code instead of starting a new one.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from linkpay.cli.registry import CommandError, CommandInput, Context, command

MCP_MAX_WAIT_SECONDS = 25


class LoginInput(CommandInput):
    """Log in to the person's wallet with a device code they approve."""

    client_name: str = Field(
        default="link-cli",
        min_length=1,
        max_length=80,
        description='Shown to the person as "NAME on HOSTNAME"',
    )
    scope: str | None = Field(
        default=None,
        description="Space-separated scopes (default: userinfo:read payment_methods.agentic)",
    )
    interval: float | None = Field(
        default=None,
        gt=0,
        le=60,
        description="Poll every S seconds until approved (exit 0), denied or expired (exit 1)",
    )
    timeout: float = Field(default=600, gt=0, le=3600, description="Stop polling after S seconds")


class UpgradeInput(LoginInput):
    """Ask for more access: the union of the current and the requested scopes. The old
    session keeps working until the new one is approved."""


def _pending_path(ctx: Context) -> Path:
    auth_file = ctx.link().store.path
    return auth_file.with_name(auth_file.name + ".pending-login")


def _load_pending(path: Path, scope: str, client_name: str) -> dict[str, Any] | None:
    try:
        if path.is_symlink():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("expires_at", 0) <= time.time() + 5:
        return None
    if data.get("scope") != scope or data.get("client_name") != client_name:
        return None
    return data


def _clear_pending(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _code_view(
    pending: dict[str, Any], ctx: Context, upgrade: bool, inp: LoginInput
) -> dict[str, Any]:
    verb = "upgrade" if upgrade else "login"
    # The follow-up must repeat the flags that identify this pending login, or it would
    # start a new one with a new phrase.
    default_name = LoginInput.model_fields["client_name"].default
    return {
        "verification_url": pending["verification_uri"],
        "verification_url_complete": pending["verification_uri_complete"],
        "phrase": pending["user_code"],
        "expires_in": max(0, int(pending["expires_at"] - time.time())),
        "instruction": (
            f"Ask the person to open {pending['verification_uri_complete']} , check that the "
            f'phrase shown is "{pending["user_code"]}", and approve. Then poll.'
        ),
        "_next": ctx.next_step(
            ("auth", verb),
            client_name=None if inp.client_name == default_name else inp.client_name,
            scope=inp.scope,
            interval=pending["interval"],
        ),
    }


def _device_flow(inp: LoginInput, ctx: Context, scope: str, *, upgrade: bool) -> Any:
    from linkpay.client.device import connection_label
    from linkpay.client.errors import DeviceLoginError, PollingTimeout
    from linkpay.client.tokens import write_private_json

    link = ctx.link()
    path = _pending_path(ctx)
    pending = _load_pending(path, scope, inp.client_name)
    if pending is None:
        code = link.device.start(client_name=inp.client_name, scope=scope)
        pending = {
            "device_code": code.device_code,
            "user_code": code.user_code,
            "verification_uri": code.verification_uri,
            "verification_uri_complete": code.verification_uri_complete,
            "interval": code.interval,
            "expires_at": time.time() + code.expires_in,
            "scope": scope,
            "client_name": inp.client_name,
        }
        if not link.store.from_env:
            write_private_json(path, pending)
    view = _code_view(pending, ctx, upgrade, inp)
    interval = inp.interval
    if interval is None and ctx.human:
        interval = float(pending["interval"])
    if interval is None:
        return view
    if ctx.human:
        from linkpay.cli.output.tty import show_link

        show_link(view["verification_url_complete"], "Open this to approve", ctx.stderr)
        print(f"Check that the wallet shows the phrase: {view['phrase']}", file=ctx.stderr)
    elif ctx.streaming:
        ctx.emit({k: v for k, v in view.items() if k != "_next"})  # type: ignore[misc]
    elif ctx.mode == "cli" and ctx.notice is not None:
        ctx.notice({k: v for k, v in view.items() if k != "_next"})
    timeout = min(inp.timeout, pending["expires_at"] - time.time())
    if ctx.mode == "mcp":
        timeout = min(timeout, MCP_MAX_WAIT_SECONDS)
    previous = link.tokens if upgrade else None
    try:
        response = link.device.poll(
            pending["device_code"],
            interval=max(interval, float(pending["interval"])),
            timeout=max(timeout, 0.1),
        )
    except DeviceLoginError:
        _clear_pending(path)
        raise
    except PollingTimeout as exc:
        if ctx.mode == "mcp":
            view["instruction"] = "Not approved yet. " + view["instruction"]
            return view
        exc.extra["_next"] = view["_next"]
        raise
    _clear_pending(path)
    tokens = link.save_login(response, client_name=inp.client_name)
    if previous is not None and previous.refresh_token:
        from linkpay.client.errors import LinkError

        try:  # the wider session replaces the old one
            link.device.revoke(previous.refresh_token)
        except LinkError:
            pass
    return {
        "authenticated": True,
        "scope": tokens.scope,
        "connection": connection_label(inp.client_name),
        "message": "Access widened." if upgrade else "Logged in.",
    }


@command("auth", "login", input=LoginInput)
def login(inp: LoginInput, ctx: Context) -> Any:
    from linkpay.client.device import DEFAULT_SCOPE

    if ctx.link().tokens is not None:
        return {
            "authenticated": True,
            "message": "Already logged in. Use `link-cli auth upgrade` to widen access, or "
            "`link-cli auth logout` first to switch accounts.",
        }
    return _device_flow(inp, ctx, inp.scope or DEFAULT_SCOPE, upgrade=False)


@command("auth", "upgrade", input=UpgradeInput)
def upgrade(inp: UpgradeInput, ctx: Context) -> Any:
    from linkpay.client.device import DEFAULT_SCOPE

    tokens = ctx.link().tokens
    if tokens is None:
        raise CommandError("NOT_AUTHENTICATED", "Not logged in. Run `link-cli auth login` first.")
    wanted = (inp.scope or DEFAULT_SCOPE).split()
    current = (tokens.scope or "").split()
    union = " ".join(dict.fromkeys([*current, *wanted]))
    return _device_flow(inp, ctx, union, upgrade=True)


class StatusInput(CommandInput):
    """Whether link-cli is logged in, and with which access."""


@command("auth", "status", input=StatusInput, read_only=True)
def status(inp: StatusInput, ctx: Context) -> Any:
    from linkpay.client.errors import NotAuthenticated

    link = ctx.link()
    tokens = link.tokens
    if tokens is None:
        return {
            "authenticated": False,
            "instruction": "Log in first; the person approves the login in their wallet.",
            "_next": ctx.next_step(("auth", "login")),
        }
    try:
        link.user_info.retrieve()  # proves the token works (refreshing it if needed)
    except NotAuthenticated as exc:
        return {
            "authenticated": False,
            "message": exc.message,
            "_next": ctx.next_step(("auth", "login")),
        }
    tokens = link.tokens
    result: dict[str, Any] = {"authenticated": True, "scope": tokens.scope}
    if tokens.authorization_details:
        result["authorization_details"] = tokens.authorization_details
    return result


class LogoutInput(CommandInput):
    """Revoke the session at the wallet and delete the local credentials."""


@command("auth", "logout", input=LogoutInput, destructive=True)
def logout(inp: LogoutInput, ctx: Context) -> Any:
    link = ctx.link()
    had_tokens = link.tokens is not None
    revoked = link.logout()
    _clear_pending(_pending_path(ctx))
    return {
        "authenticated": False,
        "revoked": revoked,
        "message": "Logged out." if had_tokens else "Was not logged in.",
    }
