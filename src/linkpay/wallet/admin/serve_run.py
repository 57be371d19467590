"""What `link-wallet serve` does: migrate, make sure the owner exists, print a one-time
sign-in link, then serve the wallet over HTTP (uvicorn) until Ctrl-C. Called by the
cyclopts command (`commands/serve.py`) and by `fast_serve` (the common spellings, parsed
without cyclopts)."""

from __future__ import annotations

import os
import sys
from typing import Any

from linkpay.wallet.admin.context import AdminContext, AdminError, safe_url


def serve(
    ctx: AdminContext,
    *,
    host: str | None = None,
    port: int | None = None,
    public_url: str | None = None,
    workers: int | None = None,
    access_log: bool | None = None,
) -> None:
    """See `commands/serve.py` for the options."""
    from linkpay import startup_gc

    startup_gc.pause()  # until the app is built (see linkpay.startup_gc)
    import uvicorn

    from linkpay.serving import serve_workers
    from linkpay.wallet import accounts
    from linkpay.wallet.admin.startup import banner
    from linkpay.wallet.app import create_app
    from linkpay.wallet.log_format import uvicorn_log_config
    from linkpay.wallet.logging import install_redaction
    from linkpay.wallet.payment_methods import active_methods
    from linkpay.wallet.web.signin import create_signin_link

    settings = ctx.settings(
        host=host, port=port, public_url=public_url, workers=workers, access_log=access_log
    )
    if settings.workers < 1:
        raise AdminError("INVALID_INPUT", "--workers: must be at least 1")
    with ctx.session() as db:
        owner = accounts.ensure_user(db, email=settings.owner_email, name=settings.owner_name)
        owner_id = owner.id
        signin_url = create_signin_link(db, owner_id, settings)  # one use, short-lived
        has_card = bool(active_methods(db, owner_id))
    ctx.close()  # the server opens its own engine
    install_redaction()
    server_app = create_app(settings) if settings.workers == 1 else None
    print(
        banner(
            settings,
            owner_email=settings.owner_email,
            owner_id=owner_id,
            database=safe_url(settings.database_url),
            signin_url=signin_url,
            has_card=has_card,
        ),
        file=sys.stderr,
        flush=True,
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "access_log": settings.access_log,
        "log_config": uvicorn_log_config(settings.log_format),
    }
    startup_gc.ready()
    if server_app is not None:
        uvicorn.run(server_app, **options)
        return
    # Each worker process builds its own app (engine, pool, LISTEN connection)
    # from the environment, so hand it the settings resolved here.
    os.environ.update(worker_environment(settings))
    serve_workers(
        uvicorn.Config(
            "linkpay.wallet.app:create_worker_app",
            factory=True,
            workers=settings.workers,
            **options,
        )
    )


def worker_environment(settings: Any) -> dict[str, str]:
    """`LINKPAY_*` variables that make a worker's `Settings.from_env()` equal ours."""
    return {
        "LINKPAY_DATA_DIR": str(settings.data_dir),
        "LINKPAY_DATABASE_URL": settings.database_url,
        "LINKPAY_HOST": settings.host,
        "LINKPAY_PORT": str(settings.port),
        "LINKPAY_PUBLIC_URL": settings.public_url,
        "LINKPAY_WORKERS": str(settings.workers),
        "LINKPAY_ACCESS_LOG": "true" if settings.access_log else "false",
    }
