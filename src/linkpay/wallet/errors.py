"""The wallet's errors, and the one place that turns them into HTTP answers.

Services raise domain errors (`WalletError` and its kinds: `InvalidRequest`,
`Unauthenticated`, `Forbidden`, `NotFound`, `Conflict`, `Unprocessable`, `RateLimited`,
`Unavailable`) and know nothing of HTTP; `http_status` maps each kind to its status.

One error shape for the whole API: `{"error": {"message", "code", "param"?, …}}`.
Handlers here turn every failure a client can cause into that JSON body with a 4xx
status: domain errors, FastAPI request validation (400 `invalid_request` naming the
field), Starlette's HTTP errors (404/405 keep their headers, e.g. `Allow`), malformed
JSON (400). The OAuth device endpoints answer RFC 6749 bodies instead (`OAuthException`).
Unexpected exceptions become a generic 500 body without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkpay.wire import ErrorBody, OAuthError, describe_validation_errors

log = logging.getLogger("linkpay.wallet")

_STATUS_CODES = {
    400: "invalid_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


class WalletError(Exception):
    """A request the wallet's rules refuse. `code` is the machine-readable reason (each
    kind has a default), `param` the offending field, `retry_after` seconds until a
    retry can succeed (sent as a header and in the body), `extra` more body fields."""

    default_code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.retry_after = retry_after
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.param is not None:
            error["param"] = self.param
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        error.update(self.extra)
        return {"error": error}


class InvalidRequest(WalletError):
    default_code = "invalid_request"


class Unauthenticated(WalletError):
    default_code = "authentication_required"


class Forbidden(WalletError):
    default_code = "forbidden"


class NotFound(WalletError):
    default_code = "not_found"


class Conflict(WalletError):
    default_code = "conflict"


class Unprocessable(WalletError):
    default_code = "unprocessable"


class RateLimited(WalletError):
    """Too many attempts; `retry_after` seconds until the next one can succeed."""

    default_code = "rate_limited"


class Unavailable(WalletError):
    default_code = "unavailable"


_HTTP_STATUS: dict[type[WalletError], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    RateLimited: 429,
    Unavailable: 503,
}


def http_status(exc: WalletError) -> int:
    """The HTTP status of a domain error (the API's JSON and the web app's pages)."""
    for kind in type(exc).__mro__:
        if kind in _HTTP_STATUS:
            return _HTTP_STATUS[kind]
    return 400


def _http_headers(exc: WalletError) -> dict[str, str] | None:
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="linkpay"'
        headers["Cache-Control"] = "no-store"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return headers or None


class OAuthException(Exception):
    """RFC 6749 §5.2 error for the device endpoints: `{"error", "error_description"}`."""

    def __init__(
        self,
        error: str,
        description: str | None = None,
        *,
        status_code: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers = headers


class CardNetworkError(Exception):
    """A refusal of the test card network, in Stripe's error shape:
    `{"error": {"type", "code", "message", "param"?, …}}`."""

    def __init__(
        self, status_code: int, error_type: str, code: str, message: str, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        error = {"type": error_type, "code": code, "message": message, **extra}
        self.error = {key: value for key, value in error.items() if value is not None}

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


def card_network_response(exc: CardNetworkError) -> JSONResponse:
    headers = None
    if exc.status_code == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="linkpay test network"'}
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)


async def _card_network_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CardNetworkError)
    return card_network_response(exc)


def not_found(what: str = "object") -> NotFound:
    return NotFound(f"No such {what}")


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        WalletError(message, code=code, param=param).body(),
        status_code=status_code,
        headers=headers,
    )


def oauth_error_response(
    error: str,
    description: str | None = None,
    *,
    status_code: int = 400,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An RFC 6749 error body; routes return it when the refusal itself must commit."""
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    headers = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _wallet_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WalletError)
    return JSONResponse(exc.body(), status_code=http_status(exc), headers=_http_headers(exc))


async def _oauth_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OAuthException)
    return oauth_error_response(
        exc.error, exc.description, status_code=exc.status_code, headers=exc.headers
    )


# Device-login endpoints answer RFC 6749 error bodies, also for malformed forms.
OAUTH_PATH_PREFIX = "/device/"


async def _validation_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if request.url.path.startswith(OAUTH_PATH_PREFIX):
        _param, message = describe_validation_errors(errors)
        return JSONResponse(
            {"error": "invalid_request", "error_description": message},
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )
    if errors and errors[0].get("type") == "json_invalid":
        return error_response(400, "invalid_request", "Request body is not valid JSON")
    param, message = describe_validation_errors(errors)
    return error_response(400, "invalid_request", message, param=param)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = exc.headers
    if exc.status_code == 404:
        message = "Not found" if detail in (None, "Not Found") else detail
    elif exc.status_code == 405:
        message = "Method not allowed"
        allowed = _documented_methods(request)
        if allowed is not None:
            headers = {**(headers or {}), "Allow": allowed}
    else:
        message = detail or code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=headers)


def _documented_methods(request: Request) -> str | None:
    """`Allow` for a 405: the methods /openapi.json documents for the most specific path
    template matching this path (a literal `/spend_requests/check` before
    `/spend_requests/{spend_request_id}`). Starlette's own `Allow` names only the first
    route that matched, so `GET /x` and `POST /x`, two routes, said `Allow: GET` alone.
    None for paths the API document doesn't have (the web pages keep Starlette's)."""
    import re

    path = request.url.path
    best: tuple[int, dict[str, Any]] | None = None
    for template, item in request.app.openapi().get("paths", {}).items():
        parts = re.split(r"(\{[^/}]+\})", template)  # literal, {param}, literal, …
        pattern = "".join("[^/]+" if part[:1] == "{" else re.escape(part) for part in parts)
        if re.fullmatch(pattern, path) and (best is None or template.count("{") < best[0]):
            best = (template.count("{"), item)
    if best is None:
        return None
    methods = sorted(method.upper() for method in best[1] if method in _HTTP_METHODS)
    return ", ".join(methods)


_HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete")


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value the schema let through (PostgreSQL rejects NUL
    characters in text, integers beyond 64 bits…): the client's input, so a 400."""
    return error_response(
        400,
        "invalid_request",
        "A value in the request can't be stored (NUL character or number out of range)",
    )


async def _unexpected_exception(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(500, "internal_error", "Something went wrong on the wallet")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(WalletError, _wallet_error)
    app.add_exception_handler(OAuthException, _oauth_exception)
    app.add_exception_handler(CardNetworkError, _card_network_error)
    app.add_exception_handler(RequestValidationError, _validation_exception)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    from sqlalchemy.exc import DataError

    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_exception)


# Declared on every router so the OpenAPI document matches what the handlers send
# (schemathesis checks undocumented status codes).
#
# Any operation can answer these two, in the wallet's error shape whatever the route's
# own: 413 from the body limit (`body_limit.py`, before the route or auth run) and 503
# with `Retry-After` when the database is busy (`overload.py`).
ANY_OPERATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {
        "model": ErrorBody,
        "description": "request too large: the body is over the wallet's limit "
        "(1 MiB unless configured), refused before authentication",
    },
    503: {
        "model": ErrorBody,
        "description": "service unavailable: the database is busy or unreachable; "
        "nothing was changed, retry after Retry-After seconds",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    },
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{
        status: {"model": ErrorBody, "description": code.replace("_", " ")}
        for status, code in _STATUS_CODES.items()
        if status in (400, 401, 403, 404, 405, 409, 422, 429)
    },
    **ANY_OPERATION_RESPONSES,
}
OAUTH_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthError, "description": "OAuth error (RFC 6749 §5.2)"},
    401: {"model": OAuthError, "description": "invalid client or token"},
    429: {"model": ErrorBody, "description": "rate limited"},
    **ANY_OPERATION_RESPONSES,
}
