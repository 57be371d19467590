"""Is a link usable from another device? Links and QR codes the person opens on a
phone only work when they point at an address the phone can reach; a loopback address
(127.0.0.1, ::1, localhost) only works on the wallet's own machine. Imports nothing of
ours, so the wallet, the CLI and the demo share it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NOTE = (
    "This link points at this computer only (a loopback address): it opens in a browser "
    "here, not on a phone. To use a phone, run the wallet with LINKPAY_PUBLIC_URL set to "
    "an address the phone can reach (e.g. http://192.168.1.20:8765)."
)


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is a loopback address or `localhost`."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_note(url: str) -> str | None:
    """The sentence to print next to a link or QR code when it only works locally."""
    return LOOPBACK_NOTE if is_loopback_url(url) else None
