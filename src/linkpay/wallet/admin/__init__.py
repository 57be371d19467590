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
  code; usage errors are `INVALID_INPUT`; Ctrl-C is `INTERRUPTED`.
- Commands only parse arguments and call the wallet's services; every command that
  touches the database migrates it to head first (`ctx.session()` does), so a fresh
  install needs no separate step.

Adding a command group: create one module in `linkpay.wallet.admin.commands` with a
`register(app, ctx)` function (see `commands/__init__.py`); it is discovered at start-up,
so no other file changes. Keep heavy imports inside the command functions: `--help` and
`--version` should not load the server.
"""

from linkpay.wallet.admin.app import main, run
from linkpay.wallet.admin.context import AdminContext, AdminError

__all__ = ["AdminContext", "AdminError", "main", "run"]
