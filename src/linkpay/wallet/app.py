"""The wallet's application factory: `create_app(settings) -> FastAPI`.

One origin serves the auth base URL (device login), the agent API, the test network
and the person's approval app. The app owns its engine; tests build it in process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import linkpay
from linkpay.wallet.errors import install_error_handlers
from linkpay.wallet.notify import NullNotifier
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.db import make_engine, make_sessionmaker


def open_store(settings: Settings, **engine_kwargs: Any) -> tuple[Engine, sessionmaker[Session]]:
    """Engine + sessionmaker for the wallet's database. Sessions carry the settings in
    `session.info["settings"]` (the device-login functions read the pepper there)."""
    from linkpay.wallet.store.migrations import ensure_sqlite_directory

    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url, **engine_kwargs)
    factory = make_sessionmaker(engine)
    factory.configure(info={"settings": settings})
    return engine, factory


def _build_notifier(settings: Settings, factory: sessionmaker[Session]) -> Any:
    from linkpay.wallet import notify

    build = getattr(notify, "build_notifier", None)
    return build(settings, factory) if build is not None else NullNotifier()


def create_app(settings: Settings | None = None) -> FastAPI:
    from linkpay.wallet.logging import install_redaction

    install_redaction()  # card numbers and secrets never reach a log, however we are run
    settings = settings or Settings.from_env()
    engine, factory = open_store(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close = getattr(app.state.notifier, "close", None)
        if close is not None:  # stop background delivery threads
            close()
        engine.dispose()

    app = FastAPI(
        title="linkpay wallet",
        version=linkpay.__version__,
        description=(
            "Agent API (Link-compatible wire contract), RFC 8628 device login, the "
            "person's approval app and, in test mode, an offline card network."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = factory
    app.state.notifier = _build_notifier(settings, factory)
    install_error_handlers(app)
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from linkpay.wallet.api import device, resources, spend_requests
    from linkpay.wallet.network import routes as network_routes
    from linkpay.wallet.web import routes as web_routes

    app.include_router(device.router)
    app.include_router(spend_requests.router)
    app.include_router(resources.router)
    app.include_router(network_routes.router)
    app.include_router(web_routes.router)
