"""When the database can't take more work, say so: 503 with `Retry-After`, never a 500.

A merchant or agent that gets a 500 can't tell whether its request happened; a 503
says "nothing was done, try again shortly". Recognised as overload:

- the connection pool stayed exhausted for the pool timeout (SQLAlchemy `TimeoutError`);
- SQLite's `database is locked` (another process held the write lock past the busy
  timeout);
- PostgreSQL refusing connections (`too many clients`, reserved slots, shutting down,
  unreachable) or cancelling a statement on a lock or statement timeout;
- the rate-limit storage (e.g. Redis) unreachable (`limits.errors.StorageError`).

Every one of these aborts the transaction, so the request's effects rolled back.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits.errors import StorageError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from linkpay.wallet.errors import error_response

log = logging.getLogger("linkpay.wallet")

RETRY_AFTER_SECONDS = 1
_MESSAGE = "The wallet is busy; nothing was changed. Retry in a moment"

# Substrings of driver messages that mean "busy or unavailable", not "bad request".
_OVERLOAD_MARKERS = (
    "database is locked",
    "database table is locked",
    "too many clients",
    "too many connections",
    "connection failed",
    "remaining connection slots are reserved",
    "the database system is starting up",
    "the database system is shutting down",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "canceling statement due to lock timeout",
    "canceling statement due to statement timeout",
    "connection pool",  # "couldn't get a connection after …"
)
# PostgreSQL SQLSTATEs: too_many_connections, cannot_connect_now, admin_shutdown,
# lock_not_available, query_canceled, connection_failure family.
_OVERLOAD_SQLSTATES = ("53300", "57P03", "57P01", "55P03", "57014", "08000", "08001", "08006")


def is_overload(exc: BaseException) -> bool:
    """True when `exc` means the database is busy or unreachable right now."""
    if isinstance(exc, (PoolTimeoutError, StorageError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _OVERLOAD_SQLSTATES:
        return True
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return any(marker in text for marker in _OVERLOAD_MARKERS)


def busy_response() -> JSONResponse:
    return error_response(
        503,
        "service_unavailable",
        _MESSAGE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


async def _overload_or_500(request: Request, exc: Exception) -> JSONResponse:
    if is_overload(exc):
        log.warning(
            "database busy on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return busy_response()
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(500, "internal_error", "Something went wrong on the wallet")


def install_overload_handlers(app: FastAPI) -> None:
    """Map pool timeouts, busy/unreachable database errors and an unreachable
    rate-limit storage to 503."""
    app.add_exception_handler(PoolTimeoutError, _overload_or_500)
    app.add_exception_handler(OperationalError, _overload_or_500)
    app.add_exception_handler(StorageError, _overload_or_500)
