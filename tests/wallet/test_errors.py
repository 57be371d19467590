"""Every failure a client can cause is a JSON error body with a 4xx status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from linkpay.wallet.app import create_app
from linkpay.wallet.errors import RateLimited
from linkpay.wallet.ids import new_id
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.migrations import upgrade_to_head


@pytest.fixture(scope="module")
def client(tmp_path_factory: Any) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("errors")
    settings = Settings.from_env(data_dir=data_dir, database_url=f"sqlite:///{data_dir}/w.db")
    upgrade_to_head(settings.database_url)
    app = create_app(settings)

    @app.get("/_test/api-error", include_in_schema=False)
    def api_error() -> None:
        raise RateLimited("slow down", code="spend_request_rate_limited", retry_after=7)

    @app.get("/_test/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals 4242424242424242")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_unknown_route_is_json_404(client: TestClient) -> None:
    answer = client.get("/no/such/thing")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"message": "Not found", "code": "not_found"}}


def test_wrong_method_is_json_405_with_allow(client: TestClient) -> None:
    answer = client.delete("/userinfo")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in answer.headers["allow"]


def test_405_allow_names_every_route_at_the_path(client: TestClient) -> None:
    # GET and POST /spend_requests are two routes; both methods are allowed. The list is
    # what /openapi.json documents for the path.
    answer = client.request("OPTIONS", "/spend_requests")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    answer = client.put("/spend_requests/lsrq_123")
    assert answer.headers["allow"] == "GET, POST"
    # A literal path is more specific than the template it also matches.
    answer = client.request("OPTIONS", "/spend_requests/check")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    answer = client.delete("/spend_requests/lsrq_123/cancel")
    assert answer.headers["allow"] == "POST"


def test_domain_error_keeps_extras_and_headers(client: TestClient) -> None:
    answer = client.get("/_test/api-error")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.json() == {
        "error": {"message": "slow down", "code": "spend_request_rate_limited", "retry_after": 7}
    }


def test_unexpected_errors_are_generic_json_500(client: TestClient) -> None:
    answer = client.get("/_test/boom")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "4242" not in answer.text and "Traceback" not in answer.text


def _agent_token(client: TestClient) -> str:
    from linkpay.wallet import accounts
    from linkpay.wallet.store.db import transaction

    app: Any = client.app
    with transaction(app.state.sessionmaker) as s:
        user = accounts.create_user(s, email=f"{new_id('e')}@example.com")
        user_id = user.id
    code = client.post("/device/code", data={"client_id": "t"}).json()
    with transaction(app.state.sessionmaker) as s:
        from linkpay.wallet.auth.device import approve_device_grant

        approve_device_grant(s, user_id=user_id, user_code=code["user_code"])
    token = client.post(
        "/device/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": code["device_code"],
            "client_id": "t",
        },
    ).json()
    return str(token["access_token"])


def test_malformed_json_is_400(client: TestClient) -> None:
    token = _agent_token(client)
    answer = client.post(
        "/agent_observations",
        content=b'{"domain": ',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"


def test_validation_error_names_the_field(client: TestClient) -> None:
    token = _agent_token(client)
    answer = client.post(
        "/agent_observations",
        json={"domain": "", "outcome": "success"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request" and error["param"] == "domain"
    assert error["message"].startswith("domain: ")


def test_openapi_declares_error_bodies(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/userinfo", "/payment-details", "/transactions", "/agent_observations"):
        for operation in schema["paths"][path].values():
            assert {"400", "401", "404"} <= set(operation["responses"]), path
