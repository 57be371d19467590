"""What `link-wallet serve` tells the person when it starts: where the wallet is,
whether money is real (test or live mode), the one-time sign-in link (and whether a
phone can open it), and the next three steps."""

from __future__ import annotations

import json
from typing import Any

from linkpay.public_url import loopback_note


def mode_line(settings: Any) -> str:
    if settings.test_mode:
        return (
            "TEST MODE: test cards and the built-in test network only; no real money moves "
            "(LINKPAY_TEST_MODE=false for live issuing)."
        )
    return "LIVE MODE: approved purchases issue real cards through the configured issuer."


def next_steps(settings: Any, *, has_card: bool) -> list[str]:
    base = settings.public_url
    custom = base != "http://127.0.0.1:8765"  # link-cli's default wallet
    env = f"LINK_API_BASE_URL={base} LINK_AUTH_BASE_URL={base} " if custom else ""
    server: dict[str, Any] = {"command": "link-cli", "args": ["--mcp"]}
    if custom:
        server["env"] = {"LINK_API_BASE_URL": base, "LINK_AUTH_BASE_URL": base}
    mcp = json.dumps({"mcpServers": {"link": server}})
    card = (
        f"Your card is in place (manage cards at {base}/payment-methods)"
        if has_card
        else "Add a card: open the sign-in link, then Payment methods → Add a test card "
        "(or run `link-wallet card add --test`)"
    )
    return [
        card,
        f'Connect an agent: {env}link-cli auth login --client-name "My agent", then approve '
        "the phrase it shows in the web app",
        f"Give the agent SKILL.md from the linkpay repository, or this MCP config: {mcp}",
    ]


def banner(
    settings: Any,
    *,
    owner_email: str,
    owner_id: str,
    database: str,
    signin_url: str,
    has_card: bool,
) -> str:
    minutes = int(settings.signin_link_ttl_seconds) // 60
    lines = [
        f"link-wallet: serving {settings.public_url} (owner {owner_email}, {owner_id}); "
        f"database {database}",
        f"link-wallet: {mode_line(settings)}",
        f"link-wallet: sign in to your wallet (one use, expires in {minutes} min): {signin_url}",
    ]
    note = loopback_note(signin_url)
    if note:
        lines.append(f"link-wallet: {note}")
    lines.append("link-wallet: link used or expired? `link-wallet signin-link` prints a new one.")
    lines.append("Next steps:")
    lines += [
        f"  {number}. {step}"
        for number, step in enumerate(next_steps(settings, has_card=has_card), 1)
    ]
    return "\n".join(lines)
