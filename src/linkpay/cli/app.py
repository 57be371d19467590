"""Running one `link-cli` invocation: global options, the cyclopts app built from the
registry (fresh per run), output in the chosen format, and the single place where every
failure becomes `{code, message}` on stdout with exit 1 — never a traceback.

Global options may appear anywhere before `--`: `--format F`, `--filter-output a,b.c`,
`--auth FILE`, `--verbose`, `--schema`, `--llms`, `--llms-full`, `--mcp`, `--version`.
"""

import inspect
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, TextIO

from linkpay.cli.registry import Command, CommandError, Context, build_input, load_commands
from linkpay.client.errors import LinkError
from linkpay.formats import FORMATS, prepare, render

GROUP_HELP = {
    "auth": "Log in to the person's wallet, check or widen access, log out.",
    "spend-request": "Ask the person to approve a purchase and get a one-time credential.",
    "payment-methods": "The person's cards and bank accounts (masked).",
    "shipping-address": "The person's shipping addresses.",
    "user-info": "Who the person is.",
    "transactions": "The person's transactions.",
    "sources": "The person's funding sources.",
    "balances": "What the agent may still spend, per source.",
    "mpp": "Pay HTTP 402 (Machine Payments Protocol) endpoints with a shared payment token.",
}
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


@dataclass
class GlobalOptions:
    format: str | None = None
    filter_output: str | None = None
    auth: str | None = None
    verbose: bool = False
    schema: bool = False
    llms: bool = False
    llms_full: bool = False
    mcp: bool = False
    version: bool = False
    rest: list[str] = field(default_factory=list)

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
        name, eq, inline = token.partition("=")
        if name in _VALUE_OPTIONS:
            if eq:
                value = inline
            elif index + 1 < len(argv):
                index += 1
                value = argv[index]
            else:
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


def _whole_number(type_: Any, tokens: Any) -> int:
    """Integers (cents!) must be typed as whole numbers: cyclopts alone would turn
    "12.50" into 12."""
    text = str(getattr(tokens[0], "value", tokens[0])).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit():
        raise ValueError("must be a whole number (amounts are integer cents, e.g. 1250)")
    return int(text)


def _cli_function(cmd: Command, ctx: Context) -> Any:
    """A function whose signature cyclopts turns into this command's flags."""
    from cyclopts import Parameter

    params: list[inspect.Parameter] = []
    for name, info in cmd.input.model_fields.items():
        meta = cmd.flag_meta(name)
        annotation = meta.cli_type or info.annotation
        is_bool = annotation is bool
        is_list = getattr(annotation, "__origin__", None) is list or "list[" in str(annotation)
        parameter = Parameter(
            name=[cmd.flag_name(name), *meta.aliases],
            help=info.description or "",
            show=not meta.hidden,
            negative=() if is_bool and not meta.negatable else None,
            negative_iterable=() if is_list else None,
            converter=_whole_number if annotation in (int, int | None) else None,
        )
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD
                if meta.positional
                else inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if info.is_required() else info.get_default(),
                annotation=Annotated[annotation, parameter],
            )
        )
    params.sort(key=lambda p: p.kind)

    def run_command(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        return ("result", cmd.handler(build_input(cmd, dict(bound.arguments)), ctx))

    signature = inspect.Signature(params)
    run_command.__signature__ = signature  # type: ignore[attr-defined]
    run_command.__annotations__ = {p.name: p.annotation for p in params}
    run_command.__doc__ = cmd.description
    run_command.__name__ = cmd.path[-1].replace("-", "_")
    return run_command


def build_app(commands: list[Command], ctx: Context) -> Any:
    from cyclopts import App

    from linkpay import __version__

    app = App(
        name="link-cli",
        help="Let an AI agent pay on a person's behalf, with their approval each time. "
        "Global options: --format toon|json|yaml|md|jsonl (--json), --filter-output a,b.c, "
        "--auth FILE, --verbose, --schema, --llms, --llms-full, --mcp, --version.",
        version=__version__,
        result_action="return_value",
        help_flags=("--help", "-h"),
        version_flags=(),
    )
    groups: dict[tuple[str, ...], Any] = {(): app}
    for cmd in commands:
        parent = app
        for depth in range(1, len(cmd.path)):
            prefix = cmd.path[:depth]
            if prefix not in groups:
                group = App(name=prefix[-1], help=GROUP_HELP.get(prefix[-1], ""))
                parent.command(group)
                groups[prefix] = group
            parent = groups[prefix]
        parent.command(_cli_function(cmd, ctx), name=cmd.path[-1], help=cmd.description)
    return app


def _command_from_tokens(commands: list[Command], tokens: list[str]) -> list[Command]:
    words = [token for token in tokens if not token.startswith("-")]
    best: list[Command] = []
    for length in range(len(words), 0, -1):
        prefix = tuple(words[:length])
        matches = [cmd for cmd in commands if cmd.path[:length] == prefix]
        if matches:
            exact = [cmd for cmd in matches if cmd.path == prefix]
            return exact or matches
    return best or commands


def _listing(commands: list[Command], full: bool) -> list[dict[str, Any]]:
    rows = []
    for cmd in commands:
        row: dict[str, Any] = {
            "command": f"link-cli {cmd.name}",
            "description": cmd.summary,
            "mcp_tool": cmd.tool_name if cmd.exposed_to_mcp else None,
            "read_only": cmd.read_only,
        }
        if full:
            params = []
            schema = cmd.input_schema().get("properties", {})
            for name, info in cmd.input.model_fields.items():
                meta = cmd.flag_meta(name)
                params.append(
                    {
                        "flag": cmd.flag_name(name),
                        "aliases": list(meta.aliases) or None,
                        "positional": meta.positional or None,
                        "required": info.is_required(),
                        "type": _schema_type(schema.get(name, {})),
                        "description": info.description,
                    }
                )
            row["parameters"] = params
        rows.append({key: value for key, value in row.items() if value is not None})
    return rows


def _schema_type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "|".join(str(v) for v in prop["enum"])
    if "anyOf" in prop:
        return "|".join(_schema_type(p) for p in prop["anyOf"] if p.get("type") != "null")
    if prop.get("type") == "array":
        return f"list[{_schema_type(prop.get('items', {}))}]"
    return str(prop.get("type", "any"))


def run(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    printer = Printer(GlobalOptions(), stdout, human=False)
    ctx: Context | None = None
    try:
        opts = split_global_options(list(argv))
        human = opts.format is None and stdout.isatty() and not opts.mcp
        printer = Printer(opts, stdout, human)
        check_filter_paths(opts)
        if opts.version:
            from linkpay import __version__

            print(f"link-cli {__version__}", file=stdout)
            return 0
        if opts.mcp:
            from linkpay.cli.mcp_server import serve_stdio

            serve_stdio(auth_file=opts.auth, verbose=opts.verbose)
            return 0
        commands = load_commands()
        if opts.llms or opts.llms_full:
            printer.result(_listing(commands, full=opts.llms_full))
            return 0
        if opts.schema:
            chosen = _command_from_tokens(commands, opts.rest)
            if len(chosen) == 1:
                printer.result(chosen[0].input_schema())
            else:
                printer.result({cmd.name: cmd.input_schema() for cmd in chosen})
            return 0
        ctx = Context(
            mode="cli",
            format=printer.format,
            human=human,
            verbose=opts.verbose,
            auth_file=opts.auth or None,
            stderr=stderr,
            emit=printer.result,
            notice=lambda data: printer.notice(data, stderr),
        )
        return _dispatch(build_app(commands, ctx), opts, printer)
    except LinkError as exc:
        printer.error(exc.to_dict())
        return 1
    except KeyboardInterrupt:
        printer.error({"code": "INTERRUPTED", "message": "Interrupted"})
        return 1
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
        if os.environ.get("LINK_DEBUG"):
            import traceback

            traceback.print_exc(file=stderr)
        printer.error(
            {
                "code": "INTERNAL_ERROR",
                "message": f"Unexpected internal error ({type(exc).__name__}). "
                "Re-run with LINK_DEBUG=1 to see details on stderr.",
            }
        )
        return 1
    finally:
        if ctx is not None:
            ctx.close()


def _dispatch(app: Any, opts: GlobalOptions, printer: Printer) -> int:
    from cyclopts import CycloptsError

    try:
        outcome = app(opts.rest, exit_on_error=False, print_error=False)
    except CycloptsError as exc:
        message = " ".join(str(exc).split()) or "invalid command line"
        raise CommandError("INVALID_INPUT", message) from None
    if isinstance(outcome, tuple) and len(outcome) == 2 and outcome[0] == "result":
        if outcome[1] is not None:
            printer.result(outcome[1])
    return 0
