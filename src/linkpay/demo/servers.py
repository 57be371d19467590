"""Small network helpers for the demo (servers run with `linkpay.serving`)."""

from __future__ import annotations

from linkpay.serving import free_loopback_port

__all__ = ["free_loopback_port", "wallet_reachable"]


def wallet_reachable(base_url: str, timeout: float = 5.0) -> bool:
    """True when something answering HTTP listens at `base_url` (any status counts).

    Probes the home page rather than /openapi.json, whose first build takes seconds."""
    import httpx2

    try:
        httpx2.get(base_url.rstrip("/") + "/", timeout=timeout)
    except httpx2.HTTPError:
        return False
    return True
