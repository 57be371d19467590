"""Global options of `link-cli` and the printer of one run: results and errors in the
chosen format (or the TTY view), on stdout.

Light on purpose (no pydantic, cyclopts or httpx2, not even `dataclasses` or `typing`):
every run, fast path or not, starts here.
"""

from __future__ import annotations

import re

from linkpay.argv import option_value
from linkpay.cli.context import CommandError
from linkpay.formats import FORMATS, prepare, render

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any, TextIO

_VALUE_OPTIONS = {"--format": "format", "--filter-output": "filter_output", "--auth": "auth"}
_FILTER_PATH = re.compile(r"[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*")
_BOOL_OPTIONS = {
    "--verbose": "verbose",
    "--schema": "schema",
    "--llms": "llms",
    "--llms-full": "llms_full",
    "--mcp": "mcp",
    "--version": "version",
}


class GlobalOptions:
    """The global options of one run; `rest` is the command line without them."""

    def __init__(self) -> None:
        self.format: str | None = None
        self.filter_output: str | None = None
        self.auth: str | None = None
        self.verbose = False
        self.schema = False
        self.llms = False
        self.llms_full = False
        self.mcp = False
        self.version = False
        self.rest: list[str] = []

    @property
    def filter_paths(self) -> list[str] | None:
        if not self.filter_output:
            return None
        return [part for part in self.filter_output.split(",") if part.strip()]


def check_filter_paths(opts: GlobalOptions) -> None:
    for path in opts.filter_paths or []:
        if not _FILTER_PATH.fullmatch(path.strip()):
            raise CommandError(
                "INVALID_INPUT",
                f"--filter-output: {path.strip()!r} is not a key path; use dotted keys "
                "separated by commas, e.g. id,status,card.last4",
            )


def split_global_options(argv: list[str]) -> GlobalOptions:
    opts = GlobalOptions()
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            opts.rest += argv[index:]
            break
        name = token.partition("=")[0]
        if name in _VALUE_OPTIONS:
            value, index = option_value(argv, index)
            if value is None:
                raise CommandError("INVALID_INPUT", f"{name} needs a value")
            setattr(opts, _VALUE_OPTIONS[name], value)
        elif token in _BOOL_OPTIONS:
            setattr(opts, _BOOL_OPTIONS[token], True)
        elif token == "--json":  # upstream's shorthand, used throughout its docs
            opts.format = "json"
        else:
            opts.rest.append(token)
        index += 1
    if opts.format is not None and opts.format not in FORMATS:
        bad, opts.format = opts.format, None
        raise CommandError(
            "INVALID_INPUT", f"--format: unknown format {bad!r}; choose one of {', '.join(FORMATS)}"
        )
    return opts


class Printer:
    """Writes results and errors for one run (machine formats, or the TTY view)."""

    def __init__(self, opts: GlobalOptions, stdout: TextIO, human: bool) -> None:
        self.opts = opts
        self.stdout = stdout
        self.human = human
        self.format = opts.format or "toon"

    def result(self, result: Any) -> None:
        data = prepare(result, self.opts.filter_paths)
        if self.human:
            from linkpay.cli.output.tty import print_human

            print_human(data, self.stdout)
        else:
            print(render(data, self.format), file=self.stdout, flush=True)

    def notice(self, data: Any, stderr: TextIO) -> None:
        """Something the caller must see before the command ends (e.g. a login phrase
        while polling), on stderr so stdout stays one parseable document."""
        print(render(prepare(data), self.format), file=stderr, flush=True)

    def error(self, error: dict[str, Any]) -> None:
        data = prepare(error)
        if self.human:
            from linkpay.cli.output.tty import print_human_error

            print_human_error(data, self.stdout)
        else:
            print(render(data, self.format), file=self.stdout, flush=True)
