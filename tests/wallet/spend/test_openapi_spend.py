"""schemathesis over the spend request routes of /openapi.json, in process (ASGI), on
both databases: no 5xx, every answer documented and matching its schema (same setup
as tests/wallet/test_openapi_contract.py for the core routes)."""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from spend_helpers import issue_agent_token

# Business rules a schema can't state (the person's limit, their payment method, a
# deadline in the future) make some schema-valid bodies 400s, and "invalid" query
# values often serialize to valid strings: keep every other check on.
EXCLUDED = [positive_data_acceptance, negative_data_rejection]


def test_spend_routes_honour_their_schema(wallet: Any, person: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", wallet.app).include(
        path_regex=r"^/spend_requests"
    )
    bearer = {"Authorization": f"Bearer {issue_agent_token(wallet, person).access_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=bearer, excluded_checks=EXCLUDED)

        check()
