"""Small network helpers for the demo (servers run with `linkpay.serving`)."""

from __future__ import annotations

import socket


def free_loopback_port() -> int:
    """A port that was free a moment ago (the demo binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wallet_reachable(base_url: str, timeout: float = 2.0) -> bool:
    """True when something answering HTTP listens at `base_url` (any status counts)."""
    import httpx2

    try:
        httpx2.get(base_url.rstrip("/") + "/openapi.json", timeout=timeout)
    except httpx2.HTTPError:
        return False
    return True
