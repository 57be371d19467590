"""`LazyAPIRoute`: a FastAPI route that analyses its endpoint on first use, not when it
is declared. The one place that relies on how FastAPI's `APIRoute` keeps its state.

FastAPI analyses every route when it is declared (the endpoint's signature, each
dependency's, a pydantic field per parameter and per response model): ~2/3 of the
wallet's ~90 routes' share of its start-up, though a request needs one route. This
class keeps what matching a request needs (path pattern, methods, name) and runs
`APIRoute.__init__` the first time anything else is read: its handler (`app`), its
dependant, OpenAPI generation. The analysed route is the same object with the same
attributes as an eager one (`tests/test_lazy_route.py` compares them).

How: `APIRoute.__init__` stores everything as instance attributes, so `__getattr__`
(called only for attributes not set yet) runs it once, under a lock. A route whose
analysis fails raises then, at its first request; `analyse_all` makes every route of
an app analyse now (the tests call it, so a broken route still fails a test run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

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
        with _ANALYSIS:
            if self.__dict__.get(_DEFERRED) is deferred:
                # Removed first: an attribute read during the analysis that is not set
                # yet raises AttributeError instead of recursing.
                del self.__dict__[_DEFERRED]
                try:
                    path, endpoint, kwargs = deferred
                    APIRoute.__init__(self, path, endpoint, **kwargs)
                except BaseException:
                    self.__dict__[_DEFERRED] = deferred
                    raise
        return getattr(self, name)

    @property
    def analysed(self) -> bool:
        return _DEFERRED not in self.__dict__


def analyse_all(routes: Iterable[Any]) -> int:
    """Analyse every lazy route now (raises what a broken one raises); returns how many
    were still waiting."""
    waiting = [route for route in routes if isinstance(route, LazyAPIRoute) and not route.analysed]
    for route in waiting:
        route.app  # noqa: B018 - reading the handler runs the analysis
    return len(waiting)
