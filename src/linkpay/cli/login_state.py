"""The pending device login, kept next to the token file (mode 0600) between commands:
`auth login` starts it, and `auth login --interval N` or `auth status --interval N`
finish it. A pending upgrade is marked `replaces_existing_session`, so it completes
even though an (older) session still works."""

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linkpay.cli.context import CommandError, Context

SOURCE_ACTIONS = (
    "read_balances",
    "read_external_transactions",
    "read_link_transactions",
    "read_source_details",
)


def pending_path(ctx: Context) -> Path:
    auth_file = ctx.link().store.path
    return auth_file.with_name(auth_file.name + ".pending-login")


def load_pending(path: Path) -> dict[str, Any] | None:
    """The pending login, unless it is missing, unreadable, a symlink or expired."""
    try:
        if path.is_symlink():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("expires_at", 0) <= time.time() + 5:
        return None
    return data


def save_pending(ctx: Context, data: dict[str, Any]) -> None:
    from linkpay.client.tokens import write_private_json

    if not ctx.link().store.from_env:
        write_private_json(pending_path(ctx), data)


def clear_pending(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def authorization_details(
    source_actions: Sequence[str] | None, raw_details: Sequence[str] | None
) -> list[dict[str, Any]] | None:
    """`--source-actions` become one `{type: source, actions}` entry; each
    `--authorization-detail` is a raw JSON object."""
    details: list[dict[str, Any]] = []
    actions = list(dict.fromkeys(source_actions or []))
    if actions:
        details.append({"type": "source", "actions": actions})
    for raw in raw_details or []:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise CommandError(
                "INVALID_INPUT", "--authorization-detail must be valid JSON"
            ) from None
        if not isinstance(parsed, dict):
            raise CommandError("INVALID_INPUT", "--authorization-detail must be a JSON object")
        details.append(parsed)
    return details or None


def token_view(ctx: Context) -> dict[str, Any]:
    """What `auth status` shows of the stored session (a token prefix, never all of it)."""
    link = ctx.link()
    tokens = link.tokens
    view: dict[str, Any] = {"authenticated": tokens is not None}
    if tokens is not None:
        view["access_token"] = tokens.access_token[:20] + "..."
        view["token_type"] = tokens.token_type or "Bearer"
    if link.store.from_env:
        view["source"] = "LINK_ACCESS_TOKEN"
    else:
        view["credentials_path"] = str(link.store.path)
    if tokens is not None and tokens.scope:
        view["scope"] = tokens.scope
    if tokens is not None and tokens.authorization_details:
        view["authorization_details"] = tokens.authorization_details
    return view
