"""The wallet's application factory: `create_app(settings) -> FastAPI`.

One origin serves the auth base URL (device login), the agent API, the test network
and the person's approval app. The app owns its engine; tests build it in process.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import linkpay
from linkpay.fastapi_startup import add_routes, skip_pydantic_v1_probe
from linkpay.wallet.body_limit import BodyLimitMiddleware
from linkpay.wallet.errors import install_error_handlers
from linkpay.wallet.logging import install_redaction
from linkpay.wallet.notify import build_notifier
from linkpay.wallet.overload import install_overload_handlers
from linkpay.wallet.rate_limits import RateLimiters
from linkpay.wallet.settings import Settings
from linkpay.wallet.spend.longpoll import VersionWatcher
from linkpay.wallet.spend.woken import settle
from linkpay.wallet.store.db import make_engine, make_sessionmaker, postgres_pool_size

log = logging.getLogger(__name__)


def open_store(settings: Settings, **engine_kwargs: Any) -> tuple[Engine, sessionmaker[Session]]:
    """Engine + sessionmaker for the wallet's database. Sessions carry the settings in
    `session.info["settings"]` (the device-login functions read the pepper there)."""
    from linkpay.wallet.store.file_modes import secure_directory
    from linkpay.wallet.store.migrations import ensure_sqlite_directory

    secure_directory(settings.data_dir)  # keys and the database live there: 0700
    ensure_sqlite_directory(settings.database_url)
    if not settings.database_url.startswith("sqlite"):
        engine_kwargs.setdefault("pool_size", _pool_size(settings))
        engine_kwargs.setdefault("pool_timeout", settings.db_pool_timeout_seconds)
    else:
        engine_kwargs.setdefault("busy_timeout", settings.sqlite_busy_timeout_seconds)
    engine = make_engine(settings.database_url, **engine_kwargs)
    factory = make_sessionmaker(engine)
    factory.configure(info={"settings": settings})
    return engine, factory


def _pool_size(settings: Settings) -> int:
    """`LINKPAY_DB_POOL_SIZE` if set, else the budget formula in `store.db`."""
    if settings.db_pool_size > 0:
        return settings.db_pool_size
    return postgres_pool_size(settings.workers, settings.db_connection_budget)


def _build_job_worker(settings: Settings, factory: sessionmaker[Session], notifier: Any) -> Any:
    """The outbox worker of this process: notification jobs and the periodic tasks
    (`jobs.maintenance`, anything added with `jobs.periodic.register_periodic`); the
    wallet's notifier then queues through the outbox instead of in memory."""
    from linkpay.wallet.jobs import maintenance, periodic  # noqa: F401 - registers tasks
    from linkpay.wallet.jobs.worker import IDLE_POLL_SECONDS, JobWorker
    from linkpay.wallet.notify.outbox_jobs import handlers

    jobs = {**handlers(settings), periodic.KIND: periodic.handler(settings)}
    worker = JobWorker(
        factory,
        jobs,
        lease_seconds=settings.job_lease_seconds,
        tick=lambda: periodic.schedule_due(factory),
        first_pass_after=IDLE_POLL_SECONDS,  # after the first requests (see JobWorker)
        hold_first_pass=settings.job_hold_first_pass_seconds,
    )
    if hasattr(notifier, "jobs"):
        notifier.jobs = worker
    return worker


# A moment after start-up (its first answers come first), the card vault is built off
# the request path: building it imports cryptography (~20 ms a process), which the first
# reveal paid otherwise: a burst of long-polls woken by approvals waited for it.
WARM_UP_AFTER_SECONDS = 5.0


def _warm_up_card_vault(settings: Settings) -> None:
    def build() -> None:
        try:
            settings.card_vault()
        except Exception:  # noqa: BLE001 - a bad key is reported where it is used
            log.debug("card vault warm-up failed", exc_info=True)

    threading.Thread(target=build, name="card-vault-warm-up", daemon=True).start()


def create_worker_app() -> FastAPI:
    """The app of one `serve --workers N` worker process (uvicorn calls it there), with
    the worker's start-up objects frozen out of the cycle collector as `serve` does for
    a single process (`linkpay.startup_gc`). Unfrozen, every full collection walked
    them all again: 55-190 ms a time, measured while 1,000 long-polls arrived."""
    from linkpay import startup_gc

    startup_gc.console_script()
    startup_gc.pause()
    try:
        return create_app()
    finally:
        startup_gc.ready()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The wallet app. Everything with state (engine, notifier, watchers, rate limiters)
    is built here and hangs off `app.state`, so two apps in one process share nothing."""
    install_redaction()  # card numbers and secrets never reach a log, however we are run
    skip_pydantic_v1_probe()
    settings = settings or Settings.from_env()
    engine, factory = open_store(settings)
    notifier = build_notifier(settings, factory)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = app.state.spend_request_watcher
        await watcher.start()  # PostgreSQL: LISTEN before the first long-poll arrives
        app.state.job_worker.start()
        warm_up = asyncio.get_running_loop().call_later(
            WARM_UP_AFTER_SECONDS, _warm_up_card_vault, settings
        )
        yield
        warm_up.cancel()
        app.state.job_worker.stop()
        await watcher.close()
        notifier.close()  # stop background delivery threads
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
    app.state.notifier = notifier
    app.state.job_worker = _build_job_worker(settings, factory, notifier)
    app.state.spend_request_watcher = VersionWatcher(engine, partial(settle, factory, settings))
    app.state.limiters = RateLimiters.build(settings, engine)
    install_error_handlers(app)
    _browser_error_pages(app)
    install_overload_handlers(app)
    _include_routers(app)
    # Plain retrieves that are 200s, answered before routing (inside the body limit).
    from linkpay.wallet.api.plain_retrieve import PlainRetrieveLane

    app.add_middleware(PlainRetrieveLane)
    # Long-polls whose token is live, answered by the watcher without the route.
    from linkpay.wallet.api.long_poll_lane import LongPollLane

    app.add_middleware(LongPollLane)
    # Outermost: an oversized body is refused before routing, auth or parsing.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
    )
    return app


def _browser_error_pages(app: FastAPI) -> None:
    """Unknown URLs and wrong methods: HTML for browsers, JSON for everyone else."""
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from linkpay.wallet.web.http import html_for_browsers

    json_handler = app.exception_handlers[StarletteHTTPException]
    app.add_exception_handler(StarletteHTTPException, html_for_browsers(json_handler))


def _include_routers(app: FastAPI) -> None:
    """Every router's routes, added to the app as they are, in this order (see
    `add_routes`: `include_router` would analyse each route a second time)."""
    from linkpay.wallet.api import device, resources, sources, spend_requests
    from linkpay.wallet.api import policy as policy_api
    from linkpay.wallet.network import routes as network_routes
    from linkpay.wallet.web import routes as web_routes
    from linkpay.wallet.webhooks import ROUTERS as WEBHOOK_ROUTERS

    for router in (
        device.router,
        policy_api.router,  # before spend_requests: /spend_requests/check
        spend_requests.router,
        resources.router,
        sources.router,
        network_routes.router,
        *web_routes.ROUTERS,
        *WEBHOOK_ROUTERS,
    ):
        add_routes(app, router)
