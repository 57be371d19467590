"""Running one `link-cli` invocation: global options, the fast paths (`--help` and
`spend-request retrieve ID` answered without the registry, see `cli/fast.py`; `demo`
started without it, see `cli/demo_run.py`), else the
cyclopts app built from the registry (fresh per run), output in the chosen format, and
the single place where every failure becomes `{code, message}` on stdout with exit 1 —
never a traceback.

Global options may appear anywhere before `--`: `--format F`, `--filter-output a,b.c`,
`--auth FILE`, `--verbose`, `--schema`, `--llms`, `--llms-full`, `--mcp`, `--version`.
"""

from __future__ import annotations

import os
import sys

from linkpay.cli.context import Context
from linkpay.cli.options import GlobalOptions, Printer, check_filter_paths, split_global_options
from linkpay.client.errors import LinkError

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import TextIO


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
            from linkpay.cli.mcp_stdio import serve_stdio

            serve_stdio(auth_file=opts.auth, verbose=opts.verbose)
            return 0
        if opts.llms or opts.llms_full or opts.schema:
            from linkpay.cli.tree import describe

            printer.result(describe(opts))
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
        from linkpay.cli import fast

        if fast.answer_help(opts.rest):
            return 0
        retrieve = fast.parse_retrieve(opts.rest)
        if retrieve is not None:
            printer.result(fast.retrieve(retrieve, ctx))
            return 0
        from linkpay.cli import demo_run

        demo_flags = demo_run.parse_flags(opts.rest)
        if demo_flags is not None:  # the demo without the registry (cli/demo_run.py)
            printer.result(demo_run.run_demo_flags(ctx, **demo_flags))
            return 0
        from linkpay.cli.registry import load_commands
        from linkpay.cli.tree import build_app, dispatch

        return dispatch(build_app(load_commands(), ctx), opts, printer)
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
