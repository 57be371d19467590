"""`link-wallet serve`: migrate, make sure the owner exists, print a one-time sign-in
link, then serve the wallet over HTTP (uvicorn) until Ctrl-C."""

from __future__ import annotations

import sys

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, safe_url


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="serve")
    def serve(
        *, host: str | None = None, port: int | None = None, public_url: str | None = None
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
        """
        import uvicorn

        from linkpay.wallet import accounts
        from linkpay.wallet.app import create_app
        from linkpay.wallet.logging import install_redaction
        from linkpay.wallet.web.signin import create_signin_link

        settings = ctx.settings(host=host, port=port, public_url=public_url)
        with ctx.session() as db:
            owner = accounts.ensure_user(db, email=settings.owner_email, name=settings.owner_name)
            owner_id = owner.id
            signin_url = create_signin_link(db, owner_id, settings)  # one use, short-lived
        ctx.close()  # the server opens its own engine
        install_redaction()
        server_app = create_app(settings)
        print(
            f"link-wallet: serving {settings.public_url} (owner {settings.owner_email}, "
            f"{owner_id}); database {safe_url(settings.database_url)}",
            file=sys.stderr,
        )
        print(
            f"link-wallet: sign in to your wallet (one use, expires in "
            f"{settings.signin_link_ttl_seconds // 60} min): {signin_url}",
            file=sys.stderr,
            flush=True,
        )
        uvicorn.run(server_app, host=settings.host, port=settings.port, log_level="info")
