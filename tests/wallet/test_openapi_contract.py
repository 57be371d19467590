"""schemathesis over /openapi.json for the wallet-core routes (device login, agent
resources), in process (ASGI), on both databases: no 500s, every answer documented and
matching its schema.

`positive_data_acceptance` is off: some 400s come from rules a schema can't state
(an unknown scope, a cursor id that isn't the caller's, a date in a bad format);
`negative_data_rejection` is off: "invalid" query values often serialize to valid
strings (an empty array becomes `ending_before=`)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

CORE_PATHS = (
    r"^/(device/(code|token|revoke)|payment-details|shipping_addresses|userinfo|"
    r"transactions|agent_observations)$"
)


@pytest.fixture(scope="module")
def core_schema(wallet: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", wallet.app).include(
        path_regex=CORE_PATHS
    )


@pytest.fixture(scope="module")
def bearer(wallet: Any) -> dict[str, str]:
    import secrets

    user_id = wallet.create_user(f"fuzz-{secrets.token_hex(4)}@example.com", "Fuzz Person")
    wallet.add_test_card(user_id)
    token = wallet.agent_login(user_id)
    return {"Authorization": f"Bearer {token.access_token}"}


def test_core_routes_honour_their_schema(
    core_schema: Any, bearer: dict[str, str], fuzz_operations: Any
) -> None:
    operations = [result.ok() for result in core_schema.get_all_operations()]
    assert len(operations) == 8
    fuzz_operations(operations, headers=bearer, max_examples=15)
