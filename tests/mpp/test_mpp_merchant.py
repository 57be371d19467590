"""Conformance group D: the merchant side (`PaymentGate`)."""

import base64
import json
import threading
from datetime import timedelta

import pytest
from mpp_helpers import SECRET, Clock, RecordingProcessor, make_app, make_gate
from starlette.testclient import TestClient

import mpp
from linkpay.mpp import wire
from linkpay.mpp.charge import select_stripe
from linkpay.mpp.stores import MemoryUsedChallengeStore, SqlUsedChallengeStore


def client_for(gate) -> TestClient:
    return TestClient(make_app(gate))


def first_challenge(response) -> mpp.Challenge:
    challenge, _ = select_stripe(
        wire.parse_challenges(response.headers.get_list("www-authenticate"))
    )
    return challenge


def b64json(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def echo_dict(challenge: mpp.Challenge) -> dict:
    echo = challenge.to_echo()
    out = {
        "id": echo.id,
        "realm": echo.realm,
        "method": echo.method,
        "intent": echo.intent,
        "request": echo.request,
    }
    for key in ("expires", "digest", "opaque", "description"):
        if getattr(echo, key) is not None:
            out[key] = getattr(echo, key)
    return out


def raw_credential(echo: dict, payload: dict) -> str:
    return "Payment " + b64json({"challenge": echo, "payload": payload})


def assert_problem(response, status: int, slug: str, *, fresh: bool = True):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"https://paymentauth.org/problems/{slug}"
    assert "payment-receipt" not in response.headers  # never a receipt on an error
    if fresh:
        assert response.headers["cache-control"] == "no-store"
        fresh_challenge = first_challenge(response)
        assert body["challengeId"] == fresh_challenge.id
    else:
        assert "www-authenticate" not in response.headers
    return body


@pytest.fixture
def gate(processor):
    return make_gate(processor)


@pytest.fixture
def client(gate):
    return client_for(gate)


def test_d34_no_credential_gets_a_challenge(client):
    response = client.get("/api/fortune")
    body = assert_problem(response, 402, "payment-required")
    challenge = first_challenge(response)
    assert challenge.method == "stripe" and challenge.intent == "charge"
    assert challenge.request["amount"] == "100" and challenge.request["currency"] == "usd"
    assert challenge.request["methodDetails"]["networkId"] == "profile_test_merchant"
    assert challenge.expires and challenge.opaque["scope"] == "GET /api/fortune"
    assert body["status"] == 402


def test_d34_each_challenge_is_unique(client):
    ids = {first_challenge(client.get("/api/fortune")).id for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    "authorization",
    [
        "Payment !!!not-base64!!!",
        "Payment " + base64.urlsafe_b64encode(b"not json").decode(),
        "Payment " + b64json({"payload": {"spt": "spt_x"}}),
        "Payment " + b64json({"challenge": {"id": "x", "method": "stripe"}}),
        "Payment " + b64json(["a"]),
    ],
)
def test_d35_malformed_credential(client, processor, authorization):
    response = client.get("/api/fortune", headers={"Authorization": authorization})
    assert_problem(response, 402, "malformed-credential")
    assert processor.calls == []


def _tamper_request(echo, **changes):
    request = json.loads(base64.urlsafe_b64decode(echo["request"] + "=="))
    request.update(changes)
    return dict(echo, request=wire.canonical_b64url(request))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: _tamper_request(e, amount="1"),
        lambda e: dict(e, realm="evil.example"),
        lambda e: dict(e, intent="session"),
        lambda e: dict(e, expires="2099-01-01T00:00:00Z"),
        lambda e: dict(
            e, opaque=wire.canonical_b64url({"nonce": "n", "scope": "GET /api/fortune"})
        ),
        lambda e: dict(e, id="forged-id"),
    ],
    ids=["amount", "realm", "intent", "expires", "opaque", "id"],
)
def test_d36_tampered_challenge_is_invalid(client, processor, tamper):
    echo = echo_dict(first_challenge(client.get("/api/fortune")))
    response = client.get(
        "/api/fortune", headers={"Authorization": raw_credential(tamper(echo), {"spt": "spt_1"})}
    )
    assert_problem(response, 402, "invalid-challenge")
    assert processor.calls == []


def test_d37_expired_challenge(processor):
    clock = Clock()
    client = client_for(make_gate(processor, clock=clock))
    challenge = first_challenge(client.get("/api/fortune"))
    clock.now += timedelta(minutes=6)
    response = client.get(
        "/api/fortune", headers={"Authorization": wire.build_credential(challenge, "spt_1")}
    )
    assert_problem(response, 402, "payment-expired")
    assert processor.calls == []


def test_d38_challenge_without_expires_is_refused(gate, client, processor):
    unexpiring = mpp.Challenge.create(
        secret_key=SECRET,
        realm=gate.realm,
        method="stripe",
        intent="charge",
        request=gate.request_for(wire_price()),
        meta={"nonce": "n", "scope": "GET /api/fortune"},
    )
    response = client.get(
        "/api/fortune", headers={"Authorization": wire.build_credential(unexpiring, "spt_1")}
    )
    body = assert_problem(response, 402, "invalid-challenge")
    assert "expiry" in body["detail"]
    assert processor.calls == []


def wire_price():
    from linkpay.mpp.server import Price

    return Price(100, "usd", "One fortune")


def test_d39_credential_for_another_route_is_refused(client, processor):
    challenge = first_challenge(client.get("/api/fortune"))
    response = client.get(
        "/api/other", headers={"Authorization": wire.build_credential(challenge, "spt_1")}
    )
    body = assert_problem(response, 402, "invalid-challenge")
    assert "another resource" in body["detail"]
    assert processor.calls == []


def test_d40_unsupported_method_is_400(client, processor):
    echo = dict(echo_dict(first_challenge(client.get("/api/fortune"))), method="tempo")
    response = client.get(
        "/api/fortune", headers={"Authorization": raw_credential(echo, {"spt": "x"})}
    )
    assert_problem(response, 400, "method-unsupported")
    assert processor.calls == []


@pytest.mark.parametrize("payload", [{}, {"spt": ""}, {"spt": 5}])
def test_d41_payload_without_spt(client, processor, payload):
    echo = echo_dict(first_challenge(client.get("/api/fortune")))
    response = client.get("/api/fortune", headers={"Authorization": raw_credential(echo, payload)})
    assert_problem(response, 402, "invalid-payload")
    assert processor.calls == []


def test_d42_identical_credential_twice_settles_once(client, processor):
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_1")
    assert client.get("/api/fortune", headers={"Authorization": credential}).status_code == 200
    again = client.get("/api/fortune", headers={"Authorization": credential})
    body = assert_problem(again, 402, "invalid-challenge")
    assert "already used" in body["detail"]
    assert len(processor.calls) == 1


def test_d42_same_challenge_with_a_different_spt_is_refused(client, processor):
    challenge = first_challenge(client.get("/api/fortune"))
    first = client.get(
        "/api/fortune", headers={"Authorization": wire.build_credential(challenge, "spt_a")}
    )
    assert first.status_code == 200
    second = client.get(
        "/api/fortune", headers={"Authorization": wire.build_credential(challenge, "spt_b")}
    )
    assert_problem(second, 402, "invalid-challenge")
    assert [call["spt"] for call in processor.calls] == ["spt_a"]


def test_d44_requires_action(client, processor):
    processor.mode = "action"
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_1")
    assert_problem(
        client.get("/api/fortune", headers={"Authorization": credential}),
        402,
        "payment-action-required",
    )


def test_d44_declined_gets_verification_failed_and_a_fresh_challenge(client, processor):
    processor.mode = "decline"
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_1")
    body = assert_problem(
        client.get("/api/fortune", headers={"Authorization": credential}),
        402,
        "verification-failed",
    )
    assert "token_already_used" in body["detail"]


def test_d44_processor_unavailable_is_500_without_a_new_challenge(client, processor):
    processor.mode = "unavailable"
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_1")
    body = assert_problem(
        client.get("/api/fortune", headers={"Authorization": credential}),
        500,
        "internal-payment-error",
        fresh=False,
    )
    assert "Do not pay again" in body["detail"]


def test_d45_success_receipt_and_settlement_call(client, processor):
    challenge = first_challenge(client.get("/api/fortune"))
    response = client.get(
        "/api/fortune", headers={"Authorization": wire.build_credential(challenge, "spt_ok")}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private"
    receipt = wire.receipt_to_dict(wire.parse_receipt(response.headers["payment-receipt"]))
    [call] = processor.calls
    assert receipt["method"] == "stripe" and receipt["status"] == "success"
    assert receipt["challengeId"] == challenge.id
    assert receipt["reference"] == response.json()["reference"]
    assert call["amount"] == 100 and call["currency"] == "usd" and call["spt"] == "spt_ok"
    assert call["idempotency_key"] == f"mpp_{challenge.id}_spt_ok"


def test_d45_external_id_and_body_digest(client, processor):
    probe = client.post("/api/order", json={"item": "mug"})
    challenge = first_challenge(probe)
    assert challenge.digest and challenge.request["externalId"] == "order_42"
    credential = wire.build_credential(challenge, "spt_o")
    tampered_body = client.post(
        "/api/order", json={"item": "car"}, headers={"Authorization": credential}
    )
    assert_problem(tampered_body, 402, "invalid-challenge")
    challenge = first_challenge(tampered_body)  # fresh one, bound to the new body
    ok = client.post(
        "/api/order",
        json={"item": "car"},
        headers={"Authorization": wire.build_credential(challenge, "spt_o2")},
    )
    assert ok.status_code == 200 and ok.json() == {"ordered": {"item": "car"}}
    receipt = wire.receipt_to_dict(wire.parse_receipt(ok.headers["payment-receipt"]))
    assert receipt["externalId"] == "order_42"
    assert [c["spt"] for c in processor.calls] == ["spt_o2"]


def test_d45_payload_must_echo_external_id(client, processor):
    echo = echo_dict(first_challenge(client.post("/api/order", json={})))
    response = client.post(
        "/api/order", json={}, headers={"Authorization": raw_credential(echo, {"spt": "spt_1"})}
    )
    assert_problem(response, 402, "invalid-payload")


def test_d46_two_payment_credentials_are_400(client, processor):
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_1")
    response = client.get(
        "/api/fortune", headers=[("Authorization", credential), ("Authorization", credential)]
    )
    assert_problem(response, 400, "bad-request", fresh=False)
    assert processor.calls == []


def test_d47_payment_next_to_bearer_is_found(client, processor):
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_1")
    assert (
        client.get(
            "/api/fortune", headers={"Authorization": f"Bearer app-token, {credential}"}
        ).status_code
        == 200
    )
    assert_problem(
        client.get("/api/fortune", headers={"Authorization": "Bearer app-token"}),
        402,
        "payment-required",
    )


def test_d48_secret_rotation(processor):
    old = client_for(make_gate(processor, secret="o" * 40))
    challenge = first_challenge(old.get("/api/fortune"))
    rotated = client_for(make_gate(processor, secret=["n" * 40, "o" * 40]))
    assert (
        rotated.get(
            "/api/fortune", headers={"Authorization": wire.build_credential(challenge, "spt_1")}
        ).status_code
        == 200
    )
    # Issued with the new key from now on; a gate that dropped the old key refuses it.
    assert first_challenge(rotated.get("/api/fortune")).verify("n" * 40, "merchant.test")
    dropped = client_for(make_gate(processor, secret="n" * 40))
    challenge = first_challenge(old.get("/api/fortune"))
    assert_problem(
        dropped.get(
            "/api/fortune", headers={"Authorization": wire.build_credential(challenge, "spt_2")}
        ),
        402,
        "invalid-challenge",
    )


def test_d55_discovery_lists_x_payment_info():
    from linkpay.merchant.app import create_merchant_app
    from linkpay.merchant.settings import MerchantSettings

    app = create_merchant_app(MerchantSettings(api_key="sk_test_x", network_id="profile_x"))
    spec = TestClient(app).get("/openapi.json").json()
    operation = spec["paths"]["/api/fortune"]["get"]
    assert operation["x-payment-info"] == {
        "offers": [
            {
                "intent": "charge",
                "method": "stripe",
                "amount": "100",
                "currency": "usd",
                "description": "One fortune",
            }
        ]
    }
    assert "402" in operation["responses"]
    assert spec["x-service-info"]["categories"] == ["demo"]


def test_gate_refuses_short_secrets():
    with pytest.raises(ValueError):
        make_gate(secret="short")


# --------------------------------------------------------------------------- stores


def test_memory_store_claims_once_and_purges():
    store = MemoryUsedChallengeStore()
    clock = Clock()
    assert store.claim("a", clock.now) is True
    assert store.claim("a", clock.now) is False
    assert store.purge_expired(clock.now + timedelta(minutes=10)) == 1
    assert store.claim("a", clock.now) is True


def test_sql_store_claims_once_under_threads(database_url):
    store = SqlUsedChallengeStore(database_url)
    clock = Clock()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim():
        barrier.wait()
        results.append(store.claim("same-id", clock.now))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.purge_expired(clock.now + timedelta(minutes=10)) == 1
    assert store.claim("same-id", clock.now) is True
    store.close()


@pytest.mark.parametrize("store_kind", ["memory", "sql"])
def test_d43_parallel_requests_with_one_credential_settle_once(store_kind, database_url):
    """N concurrent requests carrying one credential, over real HTTP on loopback."""
    import httpx2

    from linkpay.serving import serve_in_thread

    processor = RecordingProcessor(delay=0.05)
    store = (
        SqlUsedChallengeStore(database_url) if store_kind == "sql" else MemoryUsedChallengeStore()
    )
    gate = make_gate(processor, store=store)
    with serve_in_thread(lambda base: make_app(gate)) as served:
        url = f"{served.base_url}/api/fortune"
        probe = httpx2.get(url)
        credential = wire.build_credential(first_challenge(probe), "spt_race")
        statuses: list[int] = []
        barrier = threading.Barrier(10)

        def attempt():
            barrier.wait()
            statuses.append(
                httpx2.get(url, headers={"Authorization": credential}, timeout=30).status_code
            )

        threads = [threading.Thread(target=attempt) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200] + [402] * 9
    assert len(processor.calls) == 1
    if store_kind == "sql":
        store.close()


# --------------------------------------------------------------------------- fuzzing

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_echo_keys = ["id", "realm", "method", "intent", "request", "expires", "digest", "opaque"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    echo=st.dictionaries(st.sampled_from(_echo_keys), _json | st.just("stripe"), max_size=8),
    payload=_json,
    request_obj=_json,
    raw=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
def test_garbage_credentials_never_cause_a_500(client, processor, echo, payload, request_obj, raw):
    if isinstance(request_obj, dict):
        echo = dict(echo, request=b64json(request_obj))
    for authorization in (
        "Payment " + b64json({"challenge": echo, "payload": payload}),
        "Payment " + raw,
    ):
        response = client.get("/api/fortune", headers={"Authorization": authorization})
        assert response.status_code in (400, 402), response.text
        assert "payment-receipt" not in response.headers
    assert processor.calls == []


def test_asgi_middleware_prices_routes_of_any_app(processor):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from linkpay.mpp.middleware import PaymentMiddleware
    from linkpay.mpp.server import Price

    async def report(request):
        paid = request.scope["state"]["mpp_payment"]
        body = await request.body()
        return JSONResponse({"reference": paid.reference, "body": body.decode()})

    async def free(request):
        return JSONResponse({"free": True})

    inner = Starlette(routes=[Route("/report", report, methods=["POST"]), Route("/free", free)])
    gate = make_gate(processor)
    app = PaymentMiddleware(inner, gate=gate, prices={"post /report": Price(250, "usd")})
    client = TestClient(app)
    assert client.get("/free").json() == {"free": True}
    probe = client.post("/report", content=b"q=1")
    assert_problem(probe, 402, "payment-required")
    credential = wire.build_credential(first_challenge(probe), "spt_mw")
    paid = client.post("/report", content=b"q=1", headers={"Authorization": credential})
    assert paid.status_code == 200 and paid.json()["body"] == "q=1"
    assert paid.headers["cache-control"] == "private"
    receipt = wire.receipt_to_dict(wire.parse_receipt(paid.headers["payment-receipt"]))
    assert receipt["reference"] == paid.json()["reference"]
    replay = client.post("/report", content=b"q=1", headers={"Authorization": credential})
    assert_problem(replay, 402, "invalid-challenge")
    assert [c["amount"] for c in processor.calls] == [250]


def test_merchant_settings_from_env(monkeypatch):
    from linkpay.merchant.settings import MerchantSettings

    monkeypatch.setenv("LINKPAY_MERCHANT_WALLET_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("LINKPAY_MERCHANT_API_KEY", "sk_test_env")
    monkeypatch.setenv("LINKPAY_MERCHANT_NETWORK_ID", "profile_env")
    monkeypatch.setenv("LINKPAY_MERCHANT_PUBLIC_URL", "https://shop.example:8443")
    settings = MerchantSettings.from_env(fortune_price=250)
    assert (settings.wallet_url, settings.api_key.get_secret_value(), settings.network_id) == (
        "http://127.0.0.1:9999",
        "sk_test_env",
        "profile_env",
    )
    assert settings.effective_realm == "shop.example:8443" and settings.fortune_price == 250
    assert "sk_test_env" not in repr(settings) and len(settings.secret_key) >= 32


def test_merchant_main_refuses_to_start_unconfigured(monkeypatch, capsys):
    from linkpay.merchant.__main__ import main

    for name in ("API_KEY", "NETWORK_ID"):
        monkeypatch.delenv(f"LINKPAY_MERCHANT_{name}", raising=False)
    assert main([]) == 1
    assert "LINKPAY_MERCHANT_API_KEY" in capsys.readouterr().err


def test_demo_merchant_keeps_used_challenges_in_its_own_database(tmp_path, processor):
    import sqlalchemy

    from linkpay.merchant.app import create_merchant_app
    from linkpay.merchant.settings import MerchantSettings

    url = f"sqlite:///{tmp_path / 'merchant.db'}"
    settings = MerchantSettings(api_key="sk_test_x", network_id="profile_x", database_url=url)
    app = create_merchant_app(settings)
    gate = app.state.payment_gate
    assert isinstance(gate.store, SqlUsedChallengeStore)
    gate.processor = processor
    client = TestClient(app)
    credential = wire.build_credential(first_challenge(client.get("/api/fortune")), "spt_db")
    assert client.get("/api/fortune", headers={"Authorization": credential}).status_code == 200
    with sqlalchemy.create_engine(url).connect() as conn:
        rows = conn.execute(sqlalchemy.text("SELECT challenge_id FROM mpp_used_challenges")).all()
    assert [row[0] for row in rows] == [wire.parse_credential(credential).challenge.id]
