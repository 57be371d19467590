"""The agent's read views and observations, against a real wallet on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from linkpay.wallet.ids import new_id
from linkpay.wallet.store.models import AgentObservation, ShippingAddress, Transaction


def get(wallet: Any, token: Any, path: str, **params: Any) -> Any:
    with wallet.http(token.access_token) as client:
        return client.get(path, params=params)


def test_payment_details(wallet: Any, person: str, agent_token: Any) -> None:
    second = wallet.add_test_card(person)
    answer = get(wallet, agent_token, "/payment-details")
    assert answer.status_code == 200
    methods = answer.json()["payment_details"]
    assert len(methods) == 2
    default = methods[0]
    assert default["is_default"] is True and default["type"] == "card"
    assert default["id"].startswith("csmrpd_")
    assert default["card_details"]["last4"] == "4242"
    assert default["card_details"]["brand"] == "visa"
    assert methods[1]["id"] == second and methods[1]["is_default"] is False
    assert "4242424242424242" not in answer.text


def test_bank_account_payment_details(wallet: Any, person: str, agent_token: Any) -> None:
    from linkpay.wallet.store.models import PaymentMethod

    with wallet.session() as s:
        s.add(
            PaymentMethod(
                id=new_id("csmrpd"),
                user_id=person,
                type="bank_account",
                is_default=False,
                last4="6789",
                bank_name="Test Bank",
            )
        )
    methods = get(wallet, agent_token, "/payment-details").json()["payment_details"]
    bank = next(m for m in methods if m["type"] == "bank_account")
    assert bank["bank_account_details"] == {"last4": "6789", "bank_name": "Test Bank"}
    assert bank["card_details"] is None


def test_payment_details_are_per_person(wallet: Any, person: str, agent_token: Any) -> None:
    stranger = wallet.create_user(f"stranger-{person[-8:]}@example.com")
    wallet.add_test_card(stranger)
    ids = [m["id"] for m in get(wallet, agent_token, "/payment-details").json()["payment_details"]]
    assert len(ids) == 1


def test_shipping_addresses(wallet: Any, person: str, agent_token: Any) -> None:
    assert get(wallet, agent_token, "/shipping_addresses").json() == {"shipping_addresses": []}
    with wallet.session() as s:
        s.add(
            ShippingAddress(
                id=new_id("shad"),
                user_id=person,
                is_default=True,
                nickname="Home",
                address={
                    "name": "Ada Lovelace",
                    "line_1": "1 Main St",
                    "locality": "London",
                    "postal_code": "N1",
                    "country_code": "GB",
                },
            )
        )
    addresses = get(wallet, agent_token, "/shipping_addresses").json()["shipping_addresses"]
    assert len(addresses) == 1
    assert addresses[0]["nickname"] == "Home" and addresses[0]["is_default"] is True
    assert addresses[0]["address"]["line_1"] == "1 Main St"
    assert addresses[0]["address"]["country_code"] == "GB"


def test_userinfo(wallet: Any, person: str, agent_token: Any) -> None:
    info = get(wallet, agent_token, "/userinfo").json()
    assert info["email"].startswith("person-") and info["email"].endswith("@example.com")
    assert info["name"] == "Ada Lovelace"
    assert (info["first_name"], info["last_name"]) == ("Ada", "Lovelace")


def _add_transactions(wallet: Any, user_id: str, count: int) -> list[str]:
    base = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ids = []
    with wallet.session() as s:
        for i in range(count):
            txn_id = f"txn_{user_id[-6:]}{i:03d}"
            ids.append(txn_id)
            s.add(
                Transaction(
                    id=txn_id,
                    user_id=user_id,
                    source_id=f"ch_{i}",
                    amount=100 * (i + 1),
                    currency="usd",
                    description=f"purchase {i}",
                    origin="link",
                    category="books" if i % 2 == 0 else "food",
                    status="succeeded",
                    created_at=base + timedelta(days=i),
                )
            )
    return ids  # oldest first


def test_transactions_pagination_and_filters(wallet: Any, person: str, agent_token: Any) -> None:
    ids = _add_transactions(wallet, person, 7)
    newest_first = list(reversed(ids))
    page = get(wallet, agent_token, "/transactions", limit=3).json()
    assert [t["id"] for t in page["data"]] == newest_first[:3] and page["has_more"] is True
    first = page["data"][0]
    assert first["amount"] == 700 and first["currency"] == "usd" and first["origin"] == "link"
    assert first["created_date"].startswith("2026-03-07")
    page2 = get(wallet, agent_token, "/transactions", limit=3, starting_after=newest_first[2])
    assert [t["id"] for t in page2.json()["data"]] == newest_first[3:6]
    page3 = get(wallet, agent_token, "/transactions", limit=3, starting_after=newest_first[5])
    assert [t["id"] for t in page3.json()["data"]] == newest_first[6:]
    assert page3.json()["has_more"] is False
    back = get(wallet, agent_token, "/transactions", limit=2, ending_before=newest_first[3])
    assert [t["id"] for t in back.json()["data"]] == newest_first[1:3]
    books = get(wallet, agent_token, "/transactions", category="books", limit=100).json()["data"]
    assert {t["category"] for t in books} == {"books"} and len(books) == 4
    ranged = get(
        wallet,
        agent_token,
        "/transactions",
        date_start="2026-03-02",
        date_end="2026-03-03",
        limit=100,
    ).json()["data"]
    assert [t["id"] for t in ranged] == [ids[2], ids[1]]
    unix = int(datetime(2026, 3, 6, tzinfo=UTC).timestamp())
    assert len(get(wallet, agent_token, "/transactions", date_start=unix).json()["data"]) == 2
    with wallet.http(agent_token.access_token) as client:
        sourced = client.get("/transactions", params=[("sources[]", "ch_0"), ("sources[]", "ch_1")])
    assert sorted(t["source_id"] for t in sourced.json()["data"]) == ["ch_0", "ch_1"]


def test_transactions_bad_params_name_the_field(wallet: Any, person: str, agent_token: Any) -> None:
    for params, param in (
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"starting_after": "txn_nope"}, "starting_after"),
        ({"date_start": "yesterday"}, "date_start"),
        ({"origin": "elsewhere"}, "origin"),
    ):
        answer = get(wallet, agent_token, "/transactions", **params)
        assert answer.status_code == 400, params
        error = answer.json()["error"]
        assert error["code"] == "invalid_request" and error["param"] == param, error


def test_other_persons_transactions_are_invisible(
    wallet: Any, person: str, agent_token: Any
) -> None:
    stranger = wallet.create_user(f"txn-stranger-{person[-8:]}@example.com")
    theirs = _add_transactions(wallet, stranger, 2)
    assert get(wallet, agent_token, "/transactions").json()["data"] == []
    answer = get(wallet, agent_token, "/transactions", starting_after=theirs[0])
    assert answer.status_code == 400


def test_agent_observations(wallet: Any, person: str, agent_token: Any) -> None:
    body = {
        "domain": "books.example",
        "outcome": "blocked",
        "tags": ["captcha"],
        "step": "checkout",
        "freeform_context": "The site asked for a CAPTCHA.",
    }
    with wallet.http(agent_token.access_token) as client:
        answer = client.post("/agent_observations", json=body)
        assert answer.status_code == 200, answer.text
        obs_id = answer.json()["id"]
        assert obs_id.startswith("obs_")
        bad = client.post("/agent_observations", json={**body, "outcome": "meh"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "outcome"
        long = client.post("/agent_observations", json={**body, "freeform_context": "x" * 501})
        assert long.json()["error"]["param"] == "freeform_context"
        foreign = client.post("/agent_observations", json={**body, "spend_request_id": "lsrq_x"})
        assert foreign.status_code == 404
    with wallet.session() as s:
        stored = s.get(AgentObservation, obs_id)
        assert stored is not None and stored.user_id == person
        assert stored.body["domain"] == "books.example" and stored.body["outcome"] == "blocked"
