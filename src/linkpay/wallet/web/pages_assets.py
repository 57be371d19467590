"""Static files (a fixed list: nothing outside it is ever served), the PWA manifest and
the service worker, which must live at the root to control every page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from linkpay.wallet.web.http import STATIC_DIR, WebError, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_STATIC = {
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    media_type = _STATIC.get(name)
    if media_type is None:
        raise WebError(404, "Not found", "This page does not exist.")
    response = FileResponse(STATIC_DIR / name, media_type=media_type)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> Response:
    response = FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript; charset=utf-8")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says; PNG content is accepted."""
    response = FileResponse(STATIC_DIR / "icon-192.png", media_type="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
