"""Reads `prebuilt.json` (written by `python -m linkpay.cli.prebuild` from the real
command tree and wire models): pre-rendered `--help` texts, the positional fields of
each command, and the shapes of the response models `cli/plain.py` decodes. Only
`json` is imported (not even `typing` or `pathlib`): the fast paths use this instead of
cyclopts and pydantic."""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # typing itself costs a `--help` run a third of its time
if TYPE_CHECKING:
    from typing import Any

PREBUILT_FILE = os.path.join(os.path.dirname(__file__), "prebuilt.json")
_loaded: list[dict[str, Any]] = []


def _data() -> dict[str, Any]:
    """The file's content; empty tables when it is missing or unreadable (a broken
    install): the fast paths then decline and the registry answers."""
    if not _loaded:
        try:
            with open(PREBUILT_FILE, encoding="utf-8") as file:
                data = json.load(file)
        except (OSError, ValueError):
            data = {}
        _loaded.append({"help": {}, "positional": {}, "shapes": {}, **data})
    return _loaded[0]


def help_text(path: tuple[str, ...]) -> str | None:
    """The `--help` text of a command path (cyclopts' output at 80 columns), if known."""
    text = _data()["help"].get(" ".join(path))
    return text if isinstance(text, str) else None


def positional_fields(path: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_data()["positional"].get(" ".join(path), ()))


def shapes() -> dict[str, Any]:
    shapes: dict[str, Any] = _data()["shapes"]
    return shapes
