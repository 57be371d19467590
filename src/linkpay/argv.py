"""The one rule our hand-written argument scanners share (link-cli's global options,
link-wallet's, and `link-wallet serve`'s fast path): how an option takes its value."""

from __future__ import annotations


def option_value(tokens: list[str], index: int) -> tuple[str | None, int]:
    """The value of the option at `tokens[index]`, written `--name=value` or `--name
    value`: (the value, or None when it is missing; the index of the last token used)."""
    _name, eq, inline = tokens[index].partition("=")
    if eq:
        return inline, index
    if index + 1 < len(tokens):
        return tokens[index + 1], index + 1
    return None, index
