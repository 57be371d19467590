"""`link-wallet serve`: its options and help (what it does is `admin/serve_run.py`;
`admin/fast_serve.py` parses the common spellings without cyclopts, and
`tests/wallet/test_fast_serve.py` keeps the two parsers in step)."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from linkpay.wallet.admin.context import AdminContext


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="serve")
    def serve(
        *,
        host: str | None = None,
        port: int | None = None,
        public_url: str | None = None,
        workers: int | None = None,
        access_log: Annotated[bool | None, Parameter(negative="--no-access-log")] = None,
    ) -> None:
        """Migrate, then serve the wallet over HTTP.

        Parameters
        ----------
        host
            Interface to bind (default 127.0.0.1, or LINKPAY_HOST).
        port
            Port (default 8765, or LINKPAY_PORT).
        public_url
            Base URL for links the wallet hands out (default http://HOST:PORT).
        workers
            Worker processes sharing the port (default 1, or LINKPAY_WORKERS). Use
            PostgreSQL for more than one; see docs/operations.md.
        access_log
            Log one line per request (default on, or LINKPAY_ACCESS_LOG);
            --no-access-log saves CPU under load.
        """
        from linkpay.wallet.admin.serve_run import serve as run_server

        run_server(
            ctx,
            host=host,
            port=port,
            public_url=public_url,
            workers=workers,
            access_log=access_log,
        )
