"""Prefixed random ids (`lsrq_…`, `csmrpd_…`), Stripe style: greppable and typed by eye."""

import secrets
import string

_ALPHABET = string.digits + string.ascii_letters  # base62
_ID_LENGTH = 24  # ~143 bits


def new_id(prefix: str, length: int = _ID_LENGTH) -> str:
    """`new_id("lsrq") -> "lsrq_<24 random base62 chars>"`."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
