"""What makes a FastAPI app start faster, and the one place that relies on FastAPI
beyond its documented API (`tests/test_fastapi_startup.py` checks each assumption, so a
FastAPI release that breaks one fails there).

`LazyAPIRoute`: a route that analyses its endpoint on first use, not when it is
declared. FastAPI analyses every route when it is declared (the endpoint's signature,
each dependency's, a pydantic field per parameter and per response model): most of what
the wallet's ~90 routes cost at start-up, though a request needs one route. This class
keeps what matching a request needs (path pattern, methods, name) and runs
`APIRoute.__init__` the first time anything else is read: its handler (`app`), its
dependant, OpenAPI generation. Relied on: `APIRoute.__init__` keeps its state in
instance attributes, so `__getattr__` (called only for attributes not set yet) runs it
once, under a lock. A route whose analysis fails raises then, at its first request;
`analyse_all` analyses every route of an app now (tests call it, so a broken route
still fails a test run).

`skip_pydantic_v1_probe`: FastAPI asks of every parameter and response type whether it
is a `pydantic.v1` model, importing `pydantic.v1` to answer (~20 ms, for the first route
analysed). While nothing has imported `pydantic.v1`, no class can be one: the answer is
no without the import. Relied on: `fastapi._compat.shared.is_pydantic_v1_model_class`.

`note_endpoint_context`: an analysed route tells FastAPI where its endpoint is defined
(file, line, name) from the code object, which FastAPI would otherwise find by reading
and tokenizing the source on the endpoint's first request. Relied on:
`fastapi.routing._endpoint_context_cache`, keyed by `id(endpoint)`.

`add_routes`: what `app.include_router(router)` does for a plain router, without the
second analysis of every route FastAPI makes for an included router on its first
request (the route objects themselves join the app).
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name

_ANALYSIS = threading.RLock()
_DEFERRED = "_lazy_route_deferred"


class LazyAPIRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # What `Route.matches` and `url_path_for` read, as `APIRoute.__init__` sets it.
        self.path = path
        self.endpoint = endpoint
        name = kwargs.get("name")
        self.name = get_name(endpoint) if name is None else name
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        methods = kwargs.get("methods")
        self.methods = {method.upper() for method in (["GET"] if methods is None else methods)}
        self.include_in_schema = kwargs.get("include_in_schema", True)
        self.__dict__[_DEFERRED] = (path, endpoint, kwargs)

    def __getattr__(self, name: str) -> Any:
        deferred = self.__dict__.get(_DEFERRED)
        if deferred is None or name.startswith("__"):
            raise AttributeError(name)
        self._analyse(*deferred)
        return getattr(self, name)

    def _analyse(self, path: str, endpoint: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        with _ANALYSIS:
            deferred = self.__dict__.pop(_DEFERRED, None)
            if deferred is None:
                return  # another thread analysed it while this one waited
            # Popped first: an attribute read during the analysis that is not set yet
            # raises AttributeError instead of recursing.
            try:
                APIRoute.__init__(self, path, endpoint, **kwargs)
            except BaseException:
                self.__dict__[_DEFERRED] = deferred
                raise
            note_endpoint_context(self.dependant.call)

    @property
    def analysed(self) -> bool:
        return _DEFERRED not in self.__dict__


def note_endpoint_context(call: Any) -> None:
    """Tell FastAPI where `call` is defined, as its first request would find out.

    On an endpoint's first request FastAPI notes its file, line and name for error
    messages with `inspect.getsourcelines`, which reads and tokenizes the module's
    source (~1 ms an endpoint; ~16 ms of the demo's CPU). For a plain function the code
    object says the same: the file, and the line of its first decorator or its `def`."""
    cache = getattr(fastapi_routing, "_endpoint_context_cache", None)
    code = getattr(call, "__code__", None)
    if not isinstance(cache, dict) or not inspect.isfunction(call) or code is None:
        return
    if not code.co_filename.endswith(".py") or not os.path.exists(code.co_filename):
        return  # what getsourcefile would not name as it is: let FastAPI look
    cache.setdefault(
        id(call), {"file": code.co_filename, "line": code.co_firstlineno, "function": call.__name__}
    )


def analyse_all(routes: Iterable[Any]) -> int:
    """Analyse every lazy route now (raises what a broken one raises); returns how many
    were still waiting."""
    waiting = [route for route in routes if isinstance(route, LazyAPIRoute) and not route.analysed]
    for route in waiting:
        route.app  # noqa: B018 - reading the handler runs the analysis
    return len(waiting)


def skip_pydantic_v1_probe() -> None:
    """Answer FastAPI's "is this a pydantic.v1 model class?" without importing
    pydantic.v1 while nothing else has (idempotent; a no-op if FastAPI moved it)."""
    from fastapi._compat import shared

    original = getattr(shared, "is_pydantic_v1_model_class", None)
    if original is None or getattr(original, "linkpay_skips_import", False):
        return

    def is_pydantic_v1_model_class(cls: Any) -> bool:
        return "pydantic.v1" in sys.modules and bool(original(cls))

    is_pydantic_v1_model_class.linkpay_skips_import = True  # type: ignore[attr-defined]
    shared.is_pydantic_v1_model_class = is_pydantic_v1_model_class


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """`app.include_router(router)` for a router whose routes need nothing from being
    included: no nested routers, mounts or start-up handlers, and nothing given to the
    inclusion (its own prefix, tags, dependencies and responses are already part of
    each route). The app gets the route objects themselves, in order."""
    assert not router.on_startup and not router.on_shutdown, "include this router instead"
    for route in router.routes:
        assert isinstance(route, APIRoute), f"{route!r}: include this router instead"
        app.router.routes.append(route)
