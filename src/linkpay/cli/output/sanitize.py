"""Strip terminal control from text that came from a merchant or the server.

ANSI/VT escape sequences (CSI, OSC, DCS, single-character escapes), C0/C1 control
characters (except newline and tab), carriage returns and Unicode bidi overrides are
removed, so a merchant name cannot repaint an approval prompt, hide text or reorder
what an agent or person reads. Applied to every string (keys too) in every format.
"""

import re
from typing import Any

_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                 # CSI ... final byte
  | \x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)   # OSC / DCS / SOS / PM / APC ... terminator
  | \x9b[0-?]*[ -/]*[@-~]                   # 8-bit CSI
  | [\x90\x9d\x98\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)  # 8-bit string controls
  | \x1b[ -/]*[0-~]?                        # other escapes (incl. a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def sanitize_text(text: str) -> str:
    if text.isprintable():
        return text
    return _CONTROL.sub("", _ESCAPES.sub("", text))


def sanitize(value: Any) -> Any:
    """Recursively sanitize every string (and dict key) in a JSON-able value."""
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, dict):
        return {sanitize_text(str(key)): sanitize(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(item) for item in value]
    return value
