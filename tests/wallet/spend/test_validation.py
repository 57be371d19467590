"""Every create/update rule answers 400 naming the field (table-driven), person-state
rules included, and no body at all can make the wallet answer 5xx (hypothesis)."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spend_helpers import card_body, create, spt_body
from sqlalchemy import update

from linkpay.wallet.store.models import User

CREATE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("zero amount", card_body(amount=0), "amount"),
    ("negative amount", card_body(amount=-5), "amount"),
    ("amount over the platform cap", card_body(amount=50_001), "amount"),
    ("amount not a number", card_body(amount="ten"), "amount"),
    ("amount missing", {k: v for k, v in card_body().items() if k != "amount"}, "amount"),
    ("currency with a digit", card_body(currency="us1"), "currency"),
    ("short currency", card_body(currency="us"), "currency"),
    ("short context", card_body(context="need a charger"), "context"),
    ("context missing", {k: v for k, v in card_body().items() if k != "context"}, "context"),
    ("card without merchant_name", card_body(merchant_name=None), "merchant_name"),
    ("card without merchant_url", card_body(merchant_url=None), "merchant_url"),
    ("merchant_url not http", card_body(merchant_url="ftp://chargers.example"), "merchant_url"),
    ("network_id on a card request", card_body(network_id="profile_x"), "network_id"),
    ("spt without network_id", spt_body(network_id=None), "network_id"),
    ("spt with a merchant", spt_body(merchant_name="Shop"), "merchant_name"),
    ("unknown credential type", card_body(credential_type="bank"), "credential_type"),
    ("line item without name", card_body(line_items=[{"quantity": 1}]), "line_items.0.name"),
    (
        "line item quantity 0",
        card_body(line_items=[{"name": "x", "quantity": 0}]),
        "line_items.0.quantity",
    ),
    ("unknown total type", card_body(totals=[{"type": "bogus", "amount": 1}]), "totals.0.type"),
    ("total differs from amount", card_body(totals=[{"type": "total", "amount": 5}]), "totals"),
    ("too many metadata keys", card_body(metadata={f"k{i}": "v" for i in range(51)}), "metadata"),
    ("metadata key too long", card_body(metadata={"k" * 41: "v"}), "metadata"),
    ("metadata value too long", card_body(metadata={"k": "v" * 501}), "metadata"),
    ("expires_at in the past", card_body(expires_at=int(time.time()) - 10), "expires_at"),
    ("someone else's payment method", card_body(payment_details="csmrpd_nope"), "payment_details"),
    ("unknown field", card_body(colour="blue"), "colour"),
    (
        "approval_details on create",
        card_body(approval_details={"method": "click"}),
        "approval_details",
    ),
]


@pytest.mark.parametrize(("case", "body", "param"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_rule_names_the_field(
    agent: Any, case: str, body: dict[str, Any], param: str
) -> None:
    answer = agent.post("/spend_requests", json=body)
    assert answer.status_code == 400, (case, answer.text)
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["param"] == param, (case, error)
    assert param.split(".")[0] in error["message"]
    assert agent.get("/spend_requests").json()["data"] == []  # nothing was created


def _set_person(wallet: Any, person: str, **values: Any) -> None:
    with wallet.session() as session:
        session.execute(update(User).where(User.id == person).values(**values))


def test_amount_over_the_persons_own_limit(wallet: Any, agent: Any, person: str) -> None:
    _set_person(wallet, person, max_amount_per_request=1000)
    answer = agent.post("/spend_requests", json=card_body(amount=1001, totals=None))
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "amount"
    assert "1000" in answer.json()["error"]["message"]
    assert (
        agent.post("/spend_requests", json=card_body(amount=1000, totals=None)).status_code == 200
    )


def test_no_payment_method_is_a_clear_400(wallet: Any) -> None:
    user_id = wallet.create_user(f"nocard-{secrets.token_hex(4)}@example.com")
    token = wallet.agent_login(user_id)
    with wallet.http(token.access_token) as agent:
        answer = agent.post("/spend_requests", json=card_body())
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == "payment_details"
    assert "no payment method" in error["message"]


def test_default_method_used_and_explicit_method_accepted(
    wallet: Any, agent: Any, person: str
) -> None:
    from linkpay.wallet.store.models import PaymentMethod

    second = wallet.add_test_card(person)
    with wallet.session() as session:
        methods = session.query(PaymentMethod).filter_by(user_id=person).all()
        default = next(method.id for method in methods if method.is_default)
        other = next(method.id for method in methods if not method.is_default)
    created = create(agent)
    assert created["payment_details"] == default
    assert create(agent, payment_details=other)["payment_details"] == other
    explicit = create(agent, payment_details=second)
    assert explicit["payment_details"] == second


def test_paused_spending_refuses_new_requests(wallet: Any, agent: Any, person: str) -> None:
    _set_person(wallet, person, spending_paused=True)
    answer = agent.post("/spend_requests", json=card_body())
    assert answer.status_code == 403
    assert answer.json()["error"]["reason"] == "spending_paused"


# --- update ------------------------------------------------------------------------

UPDATE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("zero amount", {"amount": 0}, "amount"),
    ("amount over the cap", {"amount": 60_000}, "amount"),
    ("currency with a digit", {"currency": "eu1"}, "currency"),
    ("merchant_url not http", {"merchant_url": "chargers.example"}, "merchant_url"),
    ("someone else's method", {"payment_details": "csmrpd_nope"}, "payment_details"),
    ("unknown field", {"context": "x" * 120}, "context"),
    # merged with the stored request: the stored total (1999) no longer matches
    ("amount without its total", {"amount": 2500}, "totals"),
    ("total without its amount", {"totals": [{"type": "total", "amount": 10}]}, "totals"),
    (
        "both given but different",
        {"amount": 2500, "totals": [{"type": "total", "amount": 2400}]},
        "totals",
    ),
    ("bad line item", {"line_items": [{"name": ""}]}, "line_items.0.name"),
]


@pytest.mark.parametrize(("case", "body", "param"), UPDATE_CASES, ids=[c[0] for c in UPDATE_CASES])
def test_update_rule_names_the_field(
    agent: Any, case: str, body: dict[str, Any], param: str
) -> None:
    request = create(agent)
    answer = agent.post(f"/spend_requests/{request['id']}", json=body)
    assert answer.status_code == 400, (case, answer.text)
    assert answer.json()["error"]["param"] == param, (case, answer.json())
    after = agent.get(f"/spend_requests/{request['id']}").json()
    assert after["amount"] == request["amount"] and after["updated_at"] == request["updated_at"]


def test_update_over_the_persons_limit(wallet: Any, agent: Any, person: str) -> None:
    request = create(agent, totals=None)
    _set_person(wallet, person, max_amount_per_request=2000)
    answer = agent.post(f"/spend_requests/{request['id']}", json={"amount": 2001})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "amount"


def test_update_merchant_on_spt_request_refused(agent: Any) -> None:
    response = agent.post("/spend_requests", json=spt_body())
    assert response.status_code == 200, response.text
    answer = agent.post(
        f"/spend_requests/{response.json()['id']}", json={"merchant_url": "https://x.example"}
    )
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "merchant_url"


def test_update_applies_merged_fields(agent: Any) -> None:
    request = create(agent)
    answer = agent.post(
        f"/spend_requests/{request['id']}",
        json={"amount": 2500, "totals": [{"type": "total", "amount": 2500}], "currency": "eur"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["amount"], body["currency"], body["totals"][0]["amount"]) == (2500, "eur", 2500)
    assert body["merchant_url"] == request["merchant_url"]  # untouched fields stay


# --- never a 5xx ---------------------------------------------------------------------

_FIELDS = [
    "payment_details",
    "credential_type",
    "network_id",
    "amount",
    "currency",
    "merchant_name",
    "merchant_url",
    "context",
    "line_items",
    "totals",
    "request_approval",
    "test",
    "metadata",
    "expires_at",
    "approval_details",
    "bogus",
]
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_bodies = st.one_of(
    st.dictionaries(st.sampled_from(_FIELDS), _json, max_size=10),
    st.builds(
        lambda extra: {**card_body(), **extra},
        st.dictionaries(st.sampled_from(_FIELDS), _json, max_size=3),
    ),
    _json,
)
_fuzz = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_fuzz
@given(body=_bodies)
def test_random_create_bodies_never_5xx(agent: Any, body: Any) -> None:
    answer = agent.post("/spend_requests", json=body)
    assert answer.status_code < 500, answer.text
    assert "error" in answer.json() or answer.json()["object"] == "spend_request"


@pytest.fixture
def update_target(agent: Any) -> str:
    """One request per test (hypothesis reuses function fixtures across examples)."""
    return str(create(agent)["id"])


@_fuzz
@given(body=_bodies)
def test_random_update_bodies_never_5xx(agent: Any, update_target: str, body: Any) -> None:
    answer = agent.post(f"/spend_requests/{update_target}", json=body)
    assert answer.status_code < 500, answer.text


def test_malformed_json_is_400(agent: Any) -> None:
    answer = agent.post(
        "/spend_requests", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
