"""`linkpay.fastapi_startup`: a route is analysed on first use, and then is what FastAPI's own
`APIRoute` would have built from the same declaration (the adapter relies on
`APIRoute.__init__` keeping its state in instance attributes; a FastAPI release that
changes that fails here)."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form, Header, Query
from fastapi.exceptions import FastAPIError
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from linkpay.fastapi_startup import LazyAPIRoute, analyse_all


class Item(BaseModel):
    name: str
    price: int


async def _caller(x_caller: Annotated[str, Header()] = "anonymous") -> str:
    return x_caller


def _declare(route_class: type[APIRoute]) -> APIRouter:
    router = APIRouter(route_class=route_class, tags=["t"], responses={409: {"model": Item}})

    @router.get("/items/{item_id}", response_model=Item, name="item")
    def get_item(
        item_id: int, caller: Annotated[str, Depends(_caller)], q: str | None = Query(None)
    ) -> Item:
        return Item(name=f"{caller}:{q}", price=item_id)

    @router.post("/items", status_code=201)
    def create_item(item: Item) -> dict[str, Any]:
        return {"created": item.name}

    @router.post("/form")
    async def form(word: Annotated[str, Form()]) -> dict[str, str]:
        return {"word": word}

    return router


def _app(route_class: type[APIRoute]) -> FastAPI:
    app = FastAPI()
    app.include_router(_declare(route_class))
    return app


def test_declaring_analyses_nothing_and_matching_needs_no_analysis() -> None:
    routes = [r for r in _declare(LazyAPIRoute).routes if isinstance(r, LazyAPIRoute)]
    assert len(routes) == 3 and not any(route.analysed for route in routes)
    app = FastAPI()
    app.router.routes.extend(routes)
    assert app.url_path_for("item", item_id="7") == "/items/7"
    with TestClient(app) as client:
        answer = client.get("/items/7?q=hi", headers={"X-Caller": "ada"})
        assert answer.status_code == 200 and answer.json() == {"name": "ada:hi", "price": 7}
        assert client.get("/items/x").status_code == 422  # the path parameter's type holds
    assert [route.analysed for route in routes] == [True, False, False]  # only the one used


def test_an_analysed_route_equals_an_eager_one() -> None:
    lazy, eager = _app(LazyAPIRoute), _app(APIRoute)
    assert lazy.openapi() == eager.openapi()
    lazy_routes = [r for r in _declare(LazyAPIRoute).routes if isinstance(r, APIRoute)]
    eager_routes = [r for r in _declare(APIRoute).routes if isinstance(r, APIRoute)]
    assert analyse_all(lazy_routes) == 3 and analyse_all(lazy_routes) == 0
    for a, b in zip(lazy_routes, eager_routes, strict=True):
        assert set(vars(a)) == set(vars(b))
        for name in ("path", "name", "methods", "path_format", "unique_id", "status_code"):
            assert getattr(a, name) == getattr(b, name), name
        assert a.path_regex.pattern == b.path_regex.pattern
        assert [p.name for p in a.dependant.query_params] == [
            p.name for p in b.dependant.query_params
        ]
        assert (a.body_field is None) == (b.body_field is None)
        assert (a.response_field is None) == (b.response_field is None)
        assert sorted(a.response_fields) == sorted(b.response_fields)
    with TestClient(lazy) as client:
        assert client.post("/items", json={"name": "n", "price": 1}).status_code == 201
        assert client.post("/items", json={"name": "n"}).status_code == 422
        assert client.post("/form", data={"word": "hi"}).json() == {"word": "hi"}


def test_an_analysed_route_notes_its_endpoints_place_as_fastapi_finds_it() -> None:
    """`note_endpoint_context` (no source read on a first request) says what FastAPI's
    own `inspect.getsourcelines` lookup says: file, line of the decorator, name."""
    from fastapi import routing as fastapi_routing

    routes = [r for r in _declare(LazyAPIRoute).routes if isinstance(r, LazyAPIRoute)]
    assert analyse_all(routes) == 3
    for route in routes:
        call = route.dependant.call
        noted = fastapi_routing._endpoint_context_cache.pop(id(call))
        assert noted["line"] > 0 and noted["file"] == __file__
        assert fastapi_routing._extract_endpoint_context(call) == noted


def test_a_broken_route_fails_when_analysed_and_again_after() -> None:
    router = APIRouter(route_class=LazyAPIRoute)

    @router.post("/broken")
    def broken(lock: threading.Lock) -> None:  # not a type pydantic can read
        return None

    route = router.routes[-1]
    assert isinstance(route, LazyAPIRoute) and not route.analysed
    with pytest.raises(FastAPIError):
        analyse_all([route])
    assert not route.analysed
    with pytest.raises(FastAPIError):
        route.dependant  # noqa: B018


def test_concurrent_first_uses_analyse_once() -> None:
    route = _declare(LazyAPIRoute).routes[0]
    assert isinstance(route, LazyAPIRoute)
    handlers: list[Any] = []
    start = threading.Barrier(8)

    def first_use() -> None:
        start.wait()
        handlers.append(route.app)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(handlers) == 8 and all(handler is handlers[0] for handler in handlers)


_ANALYSE_ONE_ROUTE = """
import sys
import warnings
from fastapi import APIRouter
from fastapi.exceptions import PydanticV1NotSupportedError
from pydantic import BaseModel
from linkpay.fastapi_startup import LazyAPIRoute, analyse_all, skip_pydantic_v1_probe
if sys.argv[1] != "as-is":
    skip_pydantic_v1_probe()
if sys.argv[1] == "v1-model":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic.v1 import BaseModel
class Model(BaseModel):
    x: int
router = APIRouter(route_class=LazyAPIRoute)
@router.post("/m")
def echo(body: Model) -> None:
    return None
try:
    analyse_all(router.routes)
except PydanticV1NotSupportedError:
    print("refused")
else:
    print("pydantic.v1 imported" if "pydantic.v1" in sys.modules else "without pydantic.v1")
"""


def _analyse_in_a_fresh_process(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _ANALYSE_ONE_ROUTE, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_analysing_a_route_does_not_import_pydantic_v1() -> None:
    # FastAPI's own probe imports it (if this fails, FastAPI stopped: drop the shim).
    assert _analyse_in_a_fresh_process("as-is") == "pydantic.v1 imported"
    assert _analyse_in_a_fresh_process("skip") == "without pydantic.v1"


def test_a_pydantic_v1_model_is_still_refused() -> None:
    assert _analyse_in_a_fresh_process("v1-model") == "refused"
