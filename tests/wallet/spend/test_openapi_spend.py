"""schemathesis over the spend request routes of /openapi.json, in process (ASGI), on
both databases: no 5xx, every answer documented and matching its schema (same setup
as tests/wallet/test_openapi_contract.py for the core routes)."""

from __future__ import annotations

from typing import Any

import schemathesis
from spend_helpers import issue_agent_token


def test_spend_routes_honour_their_schema(wallet: Any, person: str, fuzz_operations: Any) -> None:
    # Business rules a schema can't state (the person's limit, their payment method, a
    # deadline in the future) make some schema-valid bodies 400s: `fuzz_operations`
    # keeps every other check on.
    schema = schemathesis.openapi.from_asgi("/openapi.json", wallet.app).include(
        path_regex=r"^/spend_requests"
    )
    bearer = {"Authorization": f"Bearer {issue_agent_token(wallet, person).access_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8  # the seven of the lifecycle and the dry run (check)
    fuzz_operations(operations, headers=bearer, max_examples=12)
