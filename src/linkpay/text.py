"""Text from outside (merchants, agents, the server), made inert before a terminal, an
agent or a person reads it: the one sanitizer the CLI, MPP client and wallet share.

Removed: ANSI/VT escape sequences (CSI, OSC, DCS, SOS/PM/APC, their 8-bit forms and
lone escapes), control characters except newline and tab (so carriage returns go too),
format characters (bidi overrides and marks, zero-width characters, BOM, tag
characters), surrogates, private-use characters and line/paragraph separators. A
merchant name thus cannot repaint an approval prompt, hide text or reorder what is
read. Only `re` and `unicodedata` are imported: the CLI calls this on every start.

`has_control_characters` is the strict check for input we refuse rather than clean
(device names an agent registers).
"""

from __future__ import annotations

import re
import unicodedata

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
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
# C0 and C1 control characters (newline and tab included).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Control, format, surrogate, private use; plus line and paragraph separators.
_DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))


def sanitize_text(text: str) -> str:
    """One string, made inert (newlines and tabs kept)."""
    if text.isprintable():  # fast path: nothing a category above would remove
        return text
    return "".join(
        ch
        for ch in _ESCAPES.sub("", text)
        if ch in "\n\t" or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )


def sanitize_deep(value: Any) -> Any:
    """Every string (and dict key) in a JSON-able value, sanitized; tuples become lists."""
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, dict):
        return {sanitize_text(str(key)): sanitize_deep(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize_deep(item) for item in value]
    return value


def clean_text(value: object) -> str:
    """Any value shown to a person, made inert (HTML escaping is Jinja's job); None is ""."""
    return "" if value is None else sanitize_text(str(value))


def one_line(text: str) -> str:
    """Inert and on one line (newlines and tabs dropped too): for notification summaries."""
    return _CONTROL_CHARACTERS.sub("", sanitize_text(text))


def has_control_characters(text: str) -> bool:
    """True when `text` holds any C0/C1 control character (ESC, NUL, newline, ...)."""
    return _CONTROL_CHARACTERS.search(text) is not None
