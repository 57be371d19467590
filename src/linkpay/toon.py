"""TOON, the default output format, for the shapes our commands print most, without
importing toon_format: its import costs more CPU (~45 ms: importlib.metadata for its
version string, dataclasses, decimal, uuid, its decoder) than a whole fast
`link-cli spend-request retrieve ID`.

`dumps(data)` returns exactly what `toon_format.dumps(data)` returns, or raises `Unsure`;
`formats.render` then asks toon_format. Handled: an object at the root; nested objects;
strings, integers, booleans and null; empty lists, lists of primitives, and tables (lists
of objects with the same keys and primitive values). Everything else is `Unsure`:
floats, an object whose values are all objects (TOON may write it as a keyed table),
lists of lists or of mixed items, nested tables, unpaired surrogates.
`tests/test_toon.py` compares both encoders on generated data.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any

_INDENT = "  "
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER_LIKE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# Quoted wherever they appear: the comma delimiter, structure, quotes, controls.
_FORCES_QUOTES = re.compile(r'[,:"\\\[\]{}\x00-\x1f]')
_TO_ESCAPE = re.compile(r'[\\"\x00-\x1f]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


class Unsure(Exception):
    """A value this encoder does not vouch for; use toon_format."""


def dumps(data: Any) -> str:
    if type(data) is not dict:
        raise Unsure
    lines: list[str] = []
    _fields(data, "", lines)
    return "\n".join(lines)


def _fields(obj: dict[Any, Any], indent: str, lines: list[str]) -> None:
    if len(obj) >= 2 and all(type(value) is dict for value in obj.values()):
        raise Unsure  # possibly a keyed table
    for key, value in obj.items():
        name = _key(key)
        kind = type(value)
        if kind is dict:
            lines.append(f"{indent}{name}:")
            _fields(value, indent + _INDENT, lines)
        elif kind is list:
            _list(name, value, indent, lines)
        else:
            lines.append(f"{indent}{name}: {_primitive(value)}")


def _list(name: str, items: list[Any], indent: str, lines: list[str]) -> None:
    if not items:
        lines.append(f"{indent}{name}: []")
        return
    if all(type(item) not in (dict, list) for item in items):
        lines.append(f"{indent}{name}[{len(items)}]: {','.join(map(_primitive, items))}")
        return
    first = items[0]
    if type(first) is not dict or not first:
        raise Unsure
    keys = first.keys()
    for item in items:
        if type(item) is not dict or item.keys() != keys:
            raise Unsure  # list items, not a table
        if any(type(value) in (dict, list) for value in item.values()):
            raise Unsure  # a nested table or list items
    header = ",".join(_key(key) for key in keys)
    lines.append(f"{indent}{name}[{len(items)}]{{{header}}}:")
    row_indent = indent + _INDENT
    for item in items:
        lines.append(row_indent + ",".join(_primitive(item[key]) for key in keys))


def _key(key: Any) -> str:
    if type(key) is not str:
        raise Unsure
    return key if _BARE_KEY.fullmatch(key) else _quote(_text(key))


def _primitive(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is not str:
        raise Unsure  # floats (canonical number forms), anything else
    value = _text(value)
    if (
        not value
        or value[0] in " \t-#"
        or value[-1] in " \t"
        or value in ("true", "false", "null")
        or _FORCES_QUOTES.search(value)
        or _NUMBER_LIKE.fullmatch(value)
    ):
        return _quote(value)
    return value


def _text(value: str) -> str:
    if _SURROGATE.search(value):
        raise Unsure  # toon_format refuses it
    return value


def _quote(value: str) -> str:
    return '"' + _TO_ESCAPE.sub(_escape, value) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"
