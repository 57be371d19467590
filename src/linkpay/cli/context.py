"""What every run needs before (or without) the command registry: `CommandError`,
`Flag` and the handler `Context`.

Kept free of pydantic, cyclopts and httpx2: the fast paths (`cli/fast.py`) run handlers
with this context without loading the registry. `linkpay.cli.registry` re-exports these
names, so commands keep importing them from there.
"""

import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from linkpay.client.errors import LinkError


class CommandError(LinkError):
    """An error a command reports as `{code, message, **extra}` (exit 1 / MCP is_error)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message, code=code, **extra)


@dataclass(frozen=True)
class Flag:
    """CLI details of an input field. `positional`: also accepted without its flag
    (`retrieve ID`); `aliases`: extra names like `-m`; `cli_only`: not an MCP param;
    `negatable`: a bool that also has `--no-NAME`; `cli_type`: what the command line
    parses when the model takes more (MCP objects where the CLI has `key:value` text);
    `hidden`: accepted but left out of --help and --schema listings."""

    positional: bool = False
    aliases: tuple[str, ...] = ()
    cli_only: bool = False
    negatable: bool = False
    cli_type: Any = None
    hidden: bool = False


@dataclass
class Context:
    """What a handler may use besides its input: the SDK client, the output mode, and
    ways to talk to a person (only when `human`)."""

    mode: Literal["cli", "mcp"] = "cli"
    format: str = "toon"
    human: bool = False  # stdout is a TTY and no --format: spinner, QR, tables
    verbose: bool = False
    auth_file: str | None = None
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    emit: Callable[[Any], None] | None = None  # stream one result document now (stdout)
    notice: Callable[[Any], None] | None = None  # a document for the caller, on stderr
    _link: Any = None

    @property
    def streaming(self) -> bool:
        """True when polling should print every status change as its own line."""
        return self.mode == "cli" and self.format == "jsonl" and self.emit is not None

    def link(self) -> Any:
        if self._link is None:
            from linkpay.client import Link

            self._link = Link(
                auth_file=self.auth_file, verbose=self.stderr if self.verbose else False
            )
        return self._link

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def next_step(self, path: tuple[str, ...], **arguments: Any) -> dict[str, Any]:
        """The `_next` hint: a shell command, and in MCP mode the tool call too."""
        from linkpay.cli.prebuilt import positional_fields

        positional = positional_fields(path)
        words = ["link-cli", *path]
        flags: list[str] = []
        for key, value in arguments.items():
            if value is None or value is False:
                continue
            if key in positional:
                words.append(shlex.quote(str(value)))
            elif value is True:
                flags.append("--" + key.replace("_", "-"))
            else:
                flags += ["--" + key.replace("_", "-"), shlex.quote(str(value))]
        hint: dict[str, Any] = {"command": " ".join(words + flags)}
        if self.mode == "mcp":
            hint["tool"] = "_".join(part.replace("-", "_") for part in path)
            hint["arguments"] = {k: v for k, v in arguments.items() if v is not None}
        return hint
