"""Strip terminal escapes and control characters from merchant-supplied data.

Everything a merchant sends (challenge params, bodies, headers) is untrusted text that
ends up in an agent's context or on a terminal. We remove ANSI CSI/OSC sequences and
C0 controls, DEL and C1 controls, keeping only tab and newline.
"""

from __future__ import annotations

import re
from typing import Any

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-char ESC sequences,
# and the 8-bit CSI introducer.
_ANSI_RE = re.compile(
    r"(?:\x1b\[[0-?]*[ -/]*[@-~])"
    r"|(?:\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?)"
    r"|(?:\x9b[0-?]*[ -/]*[@-~])"
    r"|(?:\x1b[@-Z\\-_])"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sanitize_text(value: str) -> str:
    """Remove ANSI escape sequences and control characters except tab and newline."""
    return _CONTROL_RE.sub("", _ANSI_RE.sub("", value))


def sanitize_deep(value: Any) -> Any:
    """Sanitize every string (keys included) inside nested dicts, lists and tuples."""
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, dict):
        return {sanitize_deep(key): sanitize_deep(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize_deep(item) for item in value]
    return value
