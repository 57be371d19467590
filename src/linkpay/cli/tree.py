"""The cyclopts command tree projected from the registry (flags, help), dispatching
a command line to its handler, and the `--llms` / `--schema` listings.

Loaded only by runs the fast paths (`cli/fast.py`) do not answer: cyclopts, pydantic
and every command module come with it.
"""

import inspect
from typing import Annotated, Any

from linkpay.cli.options import GlobalOptions, Printer
from linkpay.cli.registry import Command, CommandError, Context, build_input, load_commands

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


def describe(opts: GlobalOptions) -> Any:
    """What `--llms`, `--llms-full` and `--schema [COMMAND…]` print."""
    commands = load_commands()
    if opts.llms or opts.llms_full:
        return _listing(commands, full=opts.llms_full)
    chosen = _command_from_tokens(commands, opts.rest)
    if len(chosen) == 1:
        return chosen[0].input_schema()
    return {cmd.name: cmd.input_schema() for cmd in chosen}


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


def dispatch(app: Any, opts: GlobalOptions, printer: Printer) -> int:
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
