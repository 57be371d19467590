"""Does the merchant a card network names match the merchant the person approved?

Card networks describe a merchant with a short *descriptor* (`merchant_data.name` at
Stripe, `merchant.descriptor` at Lithic; at most 22 characters, upper case, often with a
payment facilitator prefix such as `SQ *`), and sometimes a URL. The person approved a
`merchant_name` and a `merchant_url`. The rule, in order:

1. **Both URLs known** (the approved `merchant_url` and the network's URL): the approved
   host must be the network's host or one of its subdomains — whoever owns
   `shop.example` owns `checkout.shop.example`, so `shop.example` may charge for an
   approval of `checkout.shop.example`, never the reverse (a subdomain can be another
   tenant). Scheme, port, path and a leading `www.` do not matter. This answer is final.
2. **Names**: both names are normalised (`normalize_name`) — accents folded, case
   folded, a facilitator prefix (`SQ *`, `PAYPAL *`, `TST*`, `SP *`) removed, `&` read
   as "and", a leading "the" and trailing legal suffixes (Inc, LLC, Ltd, Co, Corp,
   GmbH, PLC, .com …) dropped, then every non-alphanumeric character removed. They
   match when equal, or when the shorter is a prefix of the longer and at least
   `MIN_PREFIX` characters long (descriptors are truncated by the networks).
3. **Name against host**: the descriptor also matches when it equals the approved
   host's first label, normalised the same way (`ACME BOOKS` ~ `acme-books.example`),
   and the network's URL host likewise against the approved name.

Anything else is a mismatch: the card declines rather than guess.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

MIN_PREFIX = 6
_FACILITATOR_PREFIX = re.compile(r"^\s*(sq|tst|sp|paypal|pp|pay|gglpay|amzn)\s*\*\s*")
_LEGAL_SUFFIXES = frozenset(
    {"inc", "llc", "ltd", "co", "corp", "corporation", "company", "gmbh", "plc", "limited", "com"}
)


def normalize_name(name: str | None) -> str:
    """`"The Acme Books, Inc."` → `"acmebooks"`; `"SQ *Café Olé"` → `"cafeole"`."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = _FACILITATOR_PREFIX.sub("", text).replace("&", " and ")
    words = re.findall(r"[a-z0-9]+", text)
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words = words[:-1]
    return "".join(words)


def url_host(url: str | None) -> str | None:
    """Lower-case host of a URL (a bare `shop.example` is read as https), without a
    leading `www.`; None when there is none."""
    if not url or not url.strip():
        return None
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _host_label(host: str | None) -> str:
    return normalize_name(host.split(".")[0]) if host else ""


def _names_match(approved: str, seen: str) -> bool:
    if not approved or not seen:
        return False
    if approved == seen:
        return True
    shorter, longer = sorted((approved, seen), key=len)
    return len(shorter) >= MIN_PREFIX and longer.startswith(shorter)


def merchant_matches(
    *,
    approved_name: str | None,
    approved_url: str | None,
    seen_name: str | None,
    seen_url: str | None,
) -> bool:
    """The merchant rule above; `seen_*` is what the card network reports."""
    approved_host, seen_host = url_host(approved_url), url_host(seen_url)
    if approved_host and seen_host:
        return approved_host == seen_host or approved_host.endswith("." + seen_host)
    approved_norm, seen_norm = normalize_name(approved_name), normalize_name(seen_name)
    if _names_match(approved_norm, seen_norm):
        return True
    if seen_norm and seen_norm == _host_label(approved_host):
        return True
    return bool(approved_norm) and approved_norm == _host_label(seen_host)
