"""Scrub card numbers and secrets from log records before any handler sees them.

Two rules:
- runs of 13–19 digits (single spaces or dashes allowed between digits) that pass the
  Luhn check become `[PAN]` inside any string, so order ids and timestamps mostly survive;
- values of secret keys (`number`, `cvc`, `access_token`, `authorization`, `api_key`,
  `password`, …, case-insensitive) become `[REDACTED]`, whether they arrive as dict
  entries (recursively) or as `key=value` / `"key": "value"` text; bearer credentials
  (`Bearer …`, `sk_test_…`, `spt_…`) are masked wherever they appear, and so are
  sign-in link tokens and device phrases inside URLs.

`install_redaction()` makes this hold for every record of every logger: it installs a
log record factory (so records are clean from birth, whatever handlers uvicorn's
`dictConfig` installs later) and attaches `RedactingFilter` to the root, uvicorn and
httpx loggers and their current handlers. Call it once at startup; it is idempotent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from linkpay.cards import luhn_valid

REDACTED = "[REDACTED]"
PAN_MASK = "[PAN]"

SECRET_KEYS = frozenset(
    {
        "number",
        "card_number",
        "pan",
        "cvc",
        "cvv",
        "cvc2",
        "access_token",
        "refresh_token",
        "id_token",
        "device_code",
        "user_code",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "api_key",
        "apikey",
        "x-api-key",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "card_key",
        "pepper",
        "shared_payment_granted_token",
        "spt",
        "token",
        "secret_ciphertext",
    }
)

_PAN_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_KEY_NAMES = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
# key=value, key: value, "key": "value", 'key'='value' (JSON, form bodies, query strings,
# reprs). The key must not be glued to a preceding word character (`ordernumber` stays).
_KEYED_VALUE = re.compile(
    rf"""(?P<key>(?<![\w-])["']?(?:{_KEY_NAMES})["']?\s*[:=]\s*)(?P<quote>["']?)(?P<value>[^\s"'&,;}}\])]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_PREFIXED_SECRET = re.compile(r"\b(sk_(?:test|live)_|rk_(?:test|live)_|spt_)[A-Za-z0-9_-]+")
# Secrets that travel in URLs the person opens: one-time sign-in links
# (`/signin/<token>`) and the device phrase (`/device?code=…`), as they show up in
# access-log lines.
_URL_SECRET = re.compile(r"(/signin/|[?&]code=)[^\s/?&#\"']+")


_HEX = frozenset("0123456789abcdefABCDEF")
# A digit run inside a hex token at least this long is part of a hash or an id (the
# approval hash is 64 hex characters), never a card number typed or printed.
_HASH_TOKEN_LENGTH = 32


def _inside_hash(match: re.Match[str]) -> bool:
    text, start, end = match.string, match.start(), match.end()
    while start > 0 and text[start - 1] in _HEX:
        start -= 1
    while end < len(text) and text[end] in _HEX:
        end += 1
    return match.group(0).isdigit() and end - start >= _HASH_TOKEN_LENGTH


def _mask_pan(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"[ -]", "", text)
    return PAN_MASK if luhn_valid(digits) and not _inside_hash(match) else text


def redact_text(text: str) -> str:
    """Scrub one string (card numbers, keyed secrets, bearer credentials)."""
    if not text:
        return text
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PREFIXED_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _URL_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _KEYED_VALUE.sub(lambda m: f"{m.group('key')}{m.group('quote')}{REDACTED}", text)
    if any(ch.isdigit() for ch in text):
        text = _PAN_RUN.sub(_mask_pan, text)
    return text


def redact_value(value: Any, *, _depth: int = 0) -> Any:
    """Scrub any log argument: strings, dicts (secret keys), lists/tuples, recursively.
    Numbers are left alone unless they look like a card number; other objects are turned
    into scrubbed text only if their text holds something to scrub."""
    if _depth > 8:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        return PAN_MASK if 13 <= len(text) <= 19 and luhn_valid(text) else value
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and key.lower() in SECRET_KEYS
                else redact_value(item, _depth=_depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [redact_value(item, _depth=_depth + 1) for item in value]
        return tuple(items) if isinstance(value, tuple) else items  # plain types: %-safe
    try:
        text = str(value)
    except Exception:  # a broken __str__ must not break logging
        return value
    scrubbed = redact_text(text)
    return value if scrubbed == text else scrubbed


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Scrub a record in place: message, arguments, exception and stack text."""
    if getattr(record, "_linkpay_redacted", False):
        return record
    if record.args:
        if isinstance(record.args, Mapping):
            record.args = redact_value(record.args)
        else:
            record.args = tuple(redact_value(arg) for arg in record.args)
        if isinstance(record.msg, str) and redact_text(record.msg) != record.msg:
            # The template itself names a secret (`"cvc=%s"`): the value sits in the
            # arguments, so scrub the formatted text instead (placeholders would break).
            try:
                record.msg, record.args = redact_text(record.getMessage()), ()
            except (TypeError, ValueError, KeyError):
                record.msg, record.args = redact_text(str(record.msg)), ()
    if not (record.args and isinstance(record.msg, str)):
        record.msg = redact_value(record.msg)
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    record._linkpay_redacted = True
    return record


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs and never drops records."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_REDACTED_LOGGERS = (
    "",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "httpx",
    "httpx2",
    "httpcore",
    "fastapi",
    "sqlalchemy.engine",
    "linkpay",
)
_FILTER = RedactingFilter()


def install_redaction() -> None:
    """Make every log record of this process pass through the scrubber (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "_linkpay_redacting", False):

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(current(*args, **kwargs))

        factory._linkpay_redacting = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
