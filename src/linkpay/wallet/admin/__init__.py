"""`link-wallet`: run and administer a wallet from the shell.

    link-wallet serve --port 8765
    link-wallet user create --email ada@example.com --name "Ada Lovelace"
    link-wallet card add --test --email ada@example.com
    link-wallet device approve "maple otter violin"
    link-wallet approve lsrq_…
    link-wallet merchant create --name "Demo shop" --url http://127.0.0.1:8000 --format json

The convention (the same as `link-cli`; follow it when adding commands):

- Global options may appear anywhere before `--`: `--format toon|json|yaml|md|jsonl`
  (default toon; `--json` is short for `--format json`), `--database-url URL`,
  `--version`, `--help`.
- A command returns a dict or list (or a pydantic model); `app.py` prints it in the
  chosen format through the shared renderer `linkpay.formats`, sanitized.
- Every failure is `{code, message}` in the chosen format on stdout with exit status 1,
  never a traceback: raise `AdminError(code, message)` (codes are UPPER_CASE, e.g.
  `NOT_FOUND`, `INVALID_INPUT`); the wallet's own API errors pass through with their
  code; usage errors are `INVALID_INPUT`; Ctrl-C is `INTERRUPTED`, except while the
  program is still loading (nothing ran yet): then it exits 130 with nothing printed,
  the shell's convention for SIGINT.
- Commands only parse arguments and call the wallet's services; every command that
  touches the database migrates it to head first (`ctx.session()` does), so a fresh
  install needs no separate step.

Adding a command group: create one module in `linkpay.wallet.admin.commands` with a
`register(app, ctx)` function (see `commands/__init__.py`); it is discovered at start-up,
so no other file changes. Keep heavy imports inside the command functions: `--help` and
`--version` should not load the server.
"""

import sys

SIGINT_EXIT_STATUS = 130  # 128 + SIGINT, what shells report for a Ctrl-C


def main(argv: list[str] | None = None) -> int:
    """The console script. This package imports nothing at module level, so a Ctrl-C
    while the rest loads lands here and not in a traceback (see the docstring)."""
    from linkpay import startup_gc

    if argv is None:
        startup_gc.console_script()
    try:
        from linkpay.wallet.admin.app import run

        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while exiting
        return SIGINT_EXIT_STATUS
    finally:
        startup_gc.before_exit()
