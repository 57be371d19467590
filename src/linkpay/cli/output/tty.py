"""The person-facing view (stdout is a terminal and no --format was given): readable
tables on stdout, spinner and QR codes on stderr. Same data as the machine formats,
already sanitized. rich and segno are imported only here."""

import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TextIO

from linkpay.public_url import loopback_note


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "_next":
            rows += _flatten(value, name + ".")
        else:
            rows.append((name, value))
    return rows


def _console(file: TextIO) -> Any:
    from rich.console import Console

    return Console(
        file=file, highlight=False, markup=False, no_color=bool(os.environ.get("NO_COLOR"))
    )


def print_human(data: Any, file: TextIO | None = None) -> None:
    from rich.table import Table

    file = file or sys.stdout
    console = _console(file)
    if isinstance(data, list):
        if not data:
            console.print("(none)")
            return
        rows = [item if isinstance(item, dict) else {"value": item} for item in data]
        columns: list[str] = []
        for row in rows:
            columns += [
                k
                for k, v in row.items()
                if k not in columns and v is not None and not isinstance(v, (dict, list))
            ]
        table = Table(show_lines=False)
        for column in columns:  # fold, never truncate; ids stay whole so they copy
            if column == "id" or column.endswith("_id"):
                width = max(len(_cell(row.get(column))) for row in rows)
                table.add_column(column, no_wrap=True, min_width=width)
            else:
                table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*[_cell(row.get(col)) for col in columns])
        console.print(table)
        return
    if isinstance(data, dict):
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("field", no_wrap=True)
        table.add_column("value", overflow="fold")
        shown = {k: v for k, v in data.items() if k not in ("instruction", "_next")}
        for key, value in _flatten(shown):
            if value not in ([], {}):
                table.add_row(key, _cell(value))
        console.print(table)
        if data.get("instruction"):
            console.print(f"\n{data['instruction']}")
        if isinstance(data.get("_next"), dict) and data["_next"].get("command"):
            console.print(f"Next: {data['_next']['command']}")
        return
    console.print(_cell(data))


def print_human_error(error: dict[str, Any], file: TextIO | None = None) -> None:
    file = file or sys.stdout
    print(f"Error [{error.get('code')}]: {error.get('message')}", file=file)
    hint = error.get("_next")
    if isinstance(hint, dict) and hint.get("command"):
        print(f"Next: {hint['command']}", file=file)


def show_link(url: str, label: str, file: TextIO | None = None) -> None:
    """The URL a person should open, with a QR code for their phone (stderr), and a
    warning when the URL only works on this machine (a loopback address)."""
    import segno

    file = file or sys.stderr
    print(f"{label}: {url}", file=file)
    try:
        segno.make(url, error="m").terminal(out=file, compact=True, border=1)
    except Exception:  # noqa: BLE001 - a QR code is a nicety; the URL is already shown
        pass
    note = loopback_note(url)
    if note:  # a phone scanning the code would find nothing there
        print(note, file=file)


def spinner(text: str, file: TextIO | None = None) -> AbstractContextManager[Any]:
    """A spinner on stderr when it is a terminal; otherwise nothing."""
    file = file or sys.stderr
    if not file.isatty():
        return nullcontext()
    return _console(file).status(text)
