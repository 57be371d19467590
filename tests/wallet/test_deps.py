"""The shared route dependencies (`wallet.deps`): what needs the database resolves in the
route's own worker thread, inside the request's one transaction, which commits when
the route returns and rolls back when it raises."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from linkpay.wallet.accounts import create_user
from linkpay.wallet.app import create_app
from linkpay.wallet.deps import DbDep, Deferred, UnitDep, UnitRoute
from linkpay.wallet.errors import Conflict
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.migrations import upgrade_to_head

seen: dict[str, Any] = {}


class _Probe(Deferred):
    def resolve(self, session: Session) -> str:
        seen["resolve_thread"] = threading.get_ident()
        seen["resolve_session"] = session
        create_user(session, email=seen["email"])
        return "probe"


async def _probe(unit: UnitDep) -> Any:
    seen["dependency_thread"] = threading.get_ident()
    return _Probe(unit)


ProbeDep = Annotated[str, Depends(_probe)]


@pytest.fixture(scope="module")
def client(tmp_path_factory: Any) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("deps")
    settings = Settings.from_env(data_dir=data_dir, database_url=f"sqlite:///{data_dir}/w.db")
    upgrade_to_head(settings.database_url)
    app = create_app(settings)
    router = APIRouter(route_class=UnitRoute)

    @router.post("/_test/probe")
    def probe(value: ProbeDep, db: DbDep, fail: bool = False) -> dict[str, str]:
        seen["route_thread"] = threading.get_ident()
        seen["route_session"] = db
        if fail:
            raise Conflict("undo it", code="probe_failed")
        return {"value": value}

    app.include_router(router)
    with TestClient(app) as test_client:
        yield test_client


def _users(client: TestClient, email: str) -> int:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        found = session.execute(text("SELECT count(*) FROM users WHERE email = :e"), {"e": email})
        return int(found.scalar_one())


def test_deferred_value_resolves_in_the_routes_thread_and_transaction(client: TestClient) -> None:
    seen.clear()
    seen["email"] = "committed@example.com"
    answer = client.post("/_test/probe")
    assert answer.status_code == 200 and answer.json() == {"value": "probe"}
    assert seen["resolve_thread"] == seen["route_thread"]  # one worker-thread hop
    assert seen["dependency_thread"] != seen["route_thread"]  # the dependency ran on the loop
    assert seen["resolve_session"] is seen["route_session"]  # one transaction
    assert _users(client, "committed@example.com") == 1  # committed when the route returned


def test_a_failing_route_rolls_back_what_its_dependencies_wrote(client: TestClient) -> None:
    seen.clear()
    seen["email"] = "rolled-back@example.com"
    answer = client.post("/_test/probe", params={"fail": "true"})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "probe_failed"
    assert _users(client, "rolled-back@example.com") == 0
