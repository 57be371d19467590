"""The web app's HTTP plumbing: a route class that gives every page the security
headers and turns errors into HTML pages (never JSON, never a traceback), rendering,
redirects and a few request helpers.

The route class (not app-wide middleware) does this so that only the web app's routes
answer in HTML; the agent API and the test network keep their JSON errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from linkpay.money import format_money, money_in_words
from linkpay.text import clean_text
from linkpay.wallet.deps import UnitRoute
from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.overload import RETRY_AFTER_SECONDS, is_overload
from linkpay.wallet.web.present import format_when

log = logging.getLogger("linkpay.wallet.web")

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.autoescape = True  # every template, whatever its extension
templates.env.filters.update(
    money=format_money,
    money_words=money_in_words,
    when=format_when,
    clean=clean_text,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class WebError(Exception):
    """A failure shown to the person as a page (status + title + plain message)."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message


class SignInRequired(Exception):
    """Raised by `require_person`; becomes a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def apply_security_headers(response: Response, *, no_store: bool = True) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if no_store:
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    return response


class WebRoute(UnitRoute):
    """Every web route: security headers on every answer; known errors rendered as HTML
    pages; overload as a 503 page; unexpected ones logged and shown as a generic page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def web_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as exc:
                target = "/signin?next=" + quote(exc.next_path, safe="/")
                response = RedirectResponse(target, status_code=303)
            except WebError as exc:
                response = render_error(request, exc.status_code, exc.title, exc.message)
            except RequestValidationError:
                response = render_error(
                    request,
                    400,
                    "Something is missing",
                    "The form was incomplete. Go back and try again.",
                )
            except StarletteHTTPException as exc:
                response = render_error(
                    request,
                    exc.status_code,
                    "Not found" if exc.status_code == 404 else "Request refused",
                    "This page does not exist."
                    if exc.status_code == 404
                    else "The request could not be handled.",
                )
            except WalletError as exc:
                response = render_error(request, http_status(exc), "Not possible", exc.message)
            except Exception as exc:
                response = _unexpected(request, exc)
            no_store = not request.url.path.startswith("/static/")
            return apply_security_headers(response, no_store=no_store)

        return web_handler


def _unexpected(request: Request, exc: Exception) -> HTMLResponse:
    """A busy database (or rate-limit storage) is a 503 page with Retry-After, as the
    API answers (`overload.py`); anything else a generic 500 page, logged."""
    if is_overload(exc):
        log.warning("web page %s: busy (%s)", request.url.path, type(exc).__name__)
        response = render_error(
            request,
            503,
            "The wallet is busy",
            "Nothing was changed. Try again in a moment.",
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    log.error("web page %s failed: %s", request.url.path, type(exc).__name__, exc_info=exc)
    return render_error(
        request,
        500,
        "Something went wrong",
        "The wallet could not finish this. Nothing was approved.",
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    ctx: dict[str, Any] = {"request": request, **(context or {})}
    ctx.setdefault("person", getattr(request.state, "person", None))
    ctx.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    return response


def render_error(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return render(
        request, "error.html", {"title": title, "message": message}, status_code=status_code
    )


def redirect(path: str) -> RedirectResponse:
    """POST-redirect-GET (303)."""
    return RedirectResponse(path, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local absolute paths: never an open redirect to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def wants_html(request: Request) -> bool:
    """A browser navigating (its Accept names text/html); API clients and the CLI send
    `application/json` or `*/*` and keep getting JSON errors."""
    accept = request.headers.get("accept", "").lower()
    return request.method in ("GET", "HEAD") and "text/html" in accept


def html_for_browsers(json_handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the app's JSON handler for HTTP errors (unknown URLs, wrong methods): a
    browser gets the wallet's error page instead of raw JSON."""

    async def handler(request: Request, exc: Exception) -> Response:
        if not (isinstance(exc, StarletteHTTPException) and wants_html(request)):
            response: Response = await json_handler(request, exc)
            return response
        if exc.status_code == 404:
            title, message = "Not found", "This page does not exist."
        else:
            title, message = "Request refused", "The request could not be handled."
        page = render_error(request, exc.status_code, title, message)
        for name, value in (exc.headers or {}).items():
            page.headers[name] = value
        return apply_security_headers(page)

    return handler
