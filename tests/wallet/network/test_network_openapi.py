"""schemathesis over the test network's routes in /openapi.json (in process, both
databases): no 5xx, every answer documented, bodies matching their schemas, whatever
a merchant sends."""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from network_helpers import Merchant
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

# 402 declines and 400 unknown tokens answer schema-valid input (rules a schema can't
# state); what stays on: no 5xx, documented status codes, content types and bodies.
EXCLUDED = [positive_data_acceptance, negative_data_rejection]
NETWORK_PATHS = r"^/v1/(test_network/card_charges|payment_intents(/\{intent_id\})?)$"


def test_network_routes_honour_their_schema(wallet: Any, shop: Merchant) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", wallet.app).include(
        path_regex=NETWORK_PATHS
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 3
    ran: set[str] = set()
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=shop.headers(), excluded_checks=EXCLUDED)

        try:
            check()
        except Unsatisfiable:
            # e.g. no invalid value exists for a free-form string path parameter
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        ran.add(f"{operation.label} {mode.value}")
    assert len(ran) >= 5, ran  # every operation positively, and the bodies negatively
