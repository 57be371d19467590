"""Running one `link-wallet` invocation: global options, the cyclopts app assembled from
the command modules, the result in the chosen format, and the single place where every
failure becomes `{code, message}` with exit 1 (see the package docstring)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from linkpay.argv import option_value
from linkpay.formats import FORMATS, prepare, render
from linkpay.wallet.admin.context import AdminContext, AdminError

HELP = (
    "Run and administer a linkpay wallet. Global options (anywhere before `--`): "
    "--format toon|json|yaml|md|jsonl (--json = --format json), --database-url URL "
    "(default: LINKPAY_DATABASE_URL or SQLite in the data directory), --version."
)


def split_global_options(argv: list[str]) -> tuple[AdminContext, bool, list[str]]:
    """(context, --version given, the rest for cyclopts). Raises INVALID_INPUT."""
    ctx = AdminContext()
    version = False
    rest: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        name = token.partition("=")[0]
        if token == "--":
            rest += argv[index:]
            break
        if name in ("--format", "--database-url"):
            value, index = option_value(argv, index)
            if value is None:
                raise AdminError("INVALID_INPUT", f"{name} needs a value")
            if name == "--format":
                if value not in FORMATS:
                    raise AdminError(
                        "INVALID_INPUT",
                        f"--format: unknown format {value!r}; choose one of {', '.join(FORMATS)}",
                    )
                ctx.format = value
            else:
                ctx.database_url = value
        elif token == "--json":
            ctx.format = "json"
        elif token == "--version":
            version = True
        else:
            rest.append(token)
        index += 1
    return ctx, version, rest


def build_app(ctx: AdminContext) -> Any:
    """The cyclopts app with every module of `linkpay.wallet.admin.commands` registered."""
    from cyclopts import App, Parameter

    from linkpay.wallet.admin import commands

    app = App(
        name="link-wallet",
        help=HELP,
        result_action="return_value",
        help_flags=("--help", "-h"),
        version_flags=(),
        default_parameter=Parameter(negative=()),  # `--test`, never `--no-test`
        suppress_keyboard_interrupt=False,
    )
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app, ctx)
    return app


def run(argv: Sequence[str], *, stdout: TextIO | None = None) -> int:
    """One invocation; returns the exit status (0, or 1 after printing an error)."""
    stdout = stdout or sys.stdout
    ctx = AdminContext()
    try:
        ctx, version, rest = split_global_options(list(argv))
        if version:
            from linkpay import __version__

            print(f"link-wallet {__version__}", file=stdout)
            return 0
        if rest[:1] == ["serve"]:
            from linkpay.wallet.admin.fast_serve import parse

            options = parse(rest[1:])
            if options is not None:  # the common spellings, without cyclopts
                from linkpay.wallet.admin.serve_run import serve

                serve(ctx, **options)
                return 0
        result = _dispatch(build_app(ctx), rest)
        if result is not None:
            print(render(prepare(result), ctx.format), file=stdout, flush=True)
        return 0
    except KeyboardInterrupt:
        return _fail(ctx, stdout, "INTERRUPTED", "Interrupted")
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
        code, message = describe(exc)
        if code == "INTERNAL_ERROR" and os.environ.get("LINK_DEBUG"):
            import traceback

            traceback.print_exc(file=sys.stderr)
        return _fail(ctx, stdout, code, message)
    finally:
        ctx.close()


def _dispatch(app: Any, tokens: list[str]) -> Any:
    from cyclopts import CycloptsError

    try:
        return app(tokens, exit_on_error=False, print_error=False)
    except CycloptsError as exc:
        message = " ".join(str(exc).split()) or "invalid command line"
        raise AdminError("INVALID_INPUT", f"{message} (see --help)") from None


def describe(exc: BaseException) -> tuple[str, str]:
    """`(code, message)` for any failure: ours, the wallet's API errors, the database."""
    from linkpay.wallet.errors import WalletError

    if isinstance(exc, AdminError):
        return exc.code, exc.message
    if isinstance(exc, WalletError):
        return exc.code, exc.message
    if isinstance(exc, ValueError):
        return "INVALID_INPUT", str(exc)
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return "DATABASE_UNAVAILABLE", f"cannot use the database: {first_line}"
    return (
        "INTERNAL_ERROR",
        f"Unexpected internal error ({type(exc).__name__}). "
        "Re-run with LINK_DEBUG=1 to see details on stderr.",
    )


def _fail(ctx: AdminContext, stdout: TextIO, code: str, message: str) -> int:
    print(render(prepare({"code": code, "message": message}), ctx.format), file=stdout, flush=True)
    return 1
