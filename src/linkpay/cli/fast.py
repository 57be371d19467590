"""The hottest command lines, answered without cyclopts and (normally) without pydantic:
agents run `--help` and `spend-request retrieve ID` often, and importing the command
tree costs more than the answer.

- `link-cli [PATH…] --help|-h` and bare `link-cli`: the text cyclopts would print,
  pre-rendered into `prebuilt.json`, when cyclopts would print exactly that — stdout is
  not a terminal, 80 columns, UTF-8, no FORCE_COLOR/TTY_COMPATIBLE (rich's rules).
- `link-cli spend-request retrieve ID [--include card|shared_payment_token]…`: parsed
  here, fetched without httpx2 (`client/plain_get.py`, the SDK when that declines), then
  the same handler code as the registry command (`finish`), with the answer decoded by
  `cli/plain.py` (pydantic only when that declines).

Anything else, including every spelling these parsers do not recognise (`--id X`,
`--include=card`, `--interval`, an ID starting with `-`, …), returns None/False and
takes the normal path, so the fast paths never answer differently, only sooner.
`tests/cli/test_cli_fast.py` runs both paths and compares the bytes.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # `typing` would cost a `--help` run a third of its time
if TYPE_CHECKING:
    from typing import Any

    from linkpay.cli.context import Context

RETRIEVE = ("spend-request", "retrieve")
INCLUDE_CHOICES = ("card", "shared_payment_token")
ID_MAX_LENGTH = 200  # RetrieveInput.id
_HELP_FLAGS = ("--help", "-h")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_RICH_ENVIRONMENT = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


def answer_help(rest: list[str]) -> bool:
    """Print the pre-rendered help for `rest` and return True, or return False."""
    if rest and rest[-1] in _HELP_FLAGS:
        path = tuple(rest[:-1])
    elif not rest:
        path = ()
    else:
        return False
    if any(word.startswith("-") for word in path) or not _plain_80_columns():
        return False
    from linkpay.cli.prebuilt import help_text

    text = help_text(path)
    if text is None:
        return False
    sys.stdout.write(text)
    sys.stdout.flush()
    return True


def _plain_80_columns() -> bool:
    """Would rich (cyclopts' console) print plain text 80 columns wide to sys.stdout?"""
    if sys.platform == "win32" or any(name in os.environ for name in _RICH_ENVIRONMENT):
        return False
    stdout = sys.stdout
    try:
        if stdout.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    if (getattr(stdout, "encoding", None) or "utf-8").lower() not in ("utf-8", "utf8"):
        return False
    width = None
    for descriptor in (0, 1, 2):  # rich asks stdin, stdout, stderr in this order
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return (width or 80) == 80


def parse_retrieve(rest: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """(id, include) for the plain spellings of `spend-request retrieve`, else None."""
    if tuple(rest[:2]) != RETRIEVE:
        return None
    ident: str | None = None
    include: list[str] = []
    tokens = rest[2:]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--include" and index + 1 < len(tokens):
            if tokens[index + 1] not in INCLUDE_CHOICES:
                return None
            include.append(tokens[index + 1])
            index += 2
            continue
        if token.startswith("-") or ident is not None:
            return None
        ident = token
        index += 1
    if ident is None or not 1 <= len(ident) <= ID_MAX_LENGTH:
        return None
    return ident, tuple(include)


def retrieve(request: tuple[str, tuple[str, ...]], ctx: Context) -> Any:
    """`spend-request retrieve ID` without --interval or --output-file: one fetch."""
    from linkpay.cli.credentials import finish

    ident, include = request
    fetch_include = tuple(sorted(set(include)))
    return finish(spend_request(_fetch(ident, fetch_include, ctx)), ctx, include, None, False)


def _fetch(ident: str, include: tuple[str, ...], ctx: Context) -> Any:
    """`SpendRequests.fetch`'s GET, made without httpx2 when `client/plain_get.py` can
    (not with --verbose: its trace lines are the SDK's); else through the SDK."""
    if not ctx.verbose:
        from linkpay.client.plain_get import Declined, fetch

        query = "&".join(f"include={item}" for item in include)  # INCLUDE_CHOICES only
        try:
            return fetch(f"/spend_requests/{_quote(ident)}", query, auth_file=ctx.auth_file)
        except Declined:
            pass
    return ctx.link().spend_requests.fetch(ident, include=include)


def _quote(value: str) -> str:
    """`urllib.parse.quote(value, safe="")` (as `resources._path_id`), without importing
    urllib.parse and ipaddress."""
    return "".join(
        chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in value.encode("utf-8")
    )


def spend_request(data: Any) -> Any:
    """The answer as a `Plain` view, or the pydantic model when `plain` declines."""
    from linkpay.cli.plain import Plain, Unsure, decode

    try:
        return Plain("SpendRequest", decode("SpendRequest", data))
    except Unsure:
        from linkpay.client._http import parse
        from linkpay.wire import SpendRequest

        return parse(SpendRequest, data)
