"""What every run needs before (or without) the command registry: `CommandError` and
the handler `Context`.

Kept free of pydantic, cyclopts, httpx2 and even `dataclasses` and `typing`: the fast
paths (`cli/fast.py`) run handlers with this context without loading the registry.
`linkpay.cli.registry` re-exports these names, so commands keep importing them from there.
"""

from __future__ import annotations

import sys

from linkpay.client.errors import LinkError

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal, TextIO


class CommandError(LinkError):
    """An error a command reports as `{code, message, **extra}` (exit 1 / MCP is_error)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message, code=code, **extra)


class Context:
    """What a handler may use besides its input: the SDK client, the output mode, and
    ways to talk to a person (only when `human`)."""

    def __init__(
        self,
        mode: Literal["cli", "mcp"] = "cli",
        format: str = "toon",
        human: bool = False,  # stdout is a TTY and no --format: spinner, QR, tables
        verbose: bool = False,
        auth_file: str | None = None,
        stderr: TextIO | None = None,
        emit: Callable[[Any], None] | None = None,  # stream one result document now (stdout)
        notice: Callable[[Any], None] | None = None,  # a document for the caller, on stderr
        _link: Any = None,  # an SDK client to use (the MCP server shares one)
    ) -> None:
        self.mode = mode
        self.format = format
        self.human = human
        self.verbose = verbose
        self.auth_file = auth_file
        self.stderr: TextIO = stderr if stderr is not None else sys.stderr
        self.emit = emit
        self.notice = notice
        self._link: Any = _link

    def __repr__(self) -> str:
        return f"Context(mode={self.mode!r}, format={self.format!r}, human={self.human!r})"

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
        import shlex

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
