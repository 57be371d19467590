"""Conformance group B: credentials, receipts and challenge ids."""

import base64
import json
from datetime import UTC, datetime

import pytest

import mpp
from linkpay.mpp import wire
from linkpay.mpp.x402 import detect_x402
from mpp import Challenge, Credential

SECRET = "test-secret"
REALM = "api.example.com"
REQUEST = {
    "amount": "5000",
    "currency": "usd",
    "methodDetails": {"paymentMethodTypes": ["card", "link"], "networkId": "profile_123"},
}


def unb64(value: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def parsed_challenge(value: str) -> Challenge:
    [item] = wire.parse_challenges(value)
    return item.challenge


def test_b16_credential_echoes_every_param_and_raw_request():
    raw_request = base64.b64encode(json.dumps(REQUEST).encode()).decode()  # non-canonical, padded
    value = (
        f'Payment id="abc", realm="{REALM}", method="stripe", intent="charge", '
        f'request="{raw_request}", expires="2030-01-01T00:00:00Z", digest="sha-256=xyz", '
        f'opaque="eyJvcmRlciI6Im8xIn0", description="A thing"'
    )
    authorization = wire.build_credential(parsed_challenge(value), "spt_123")
    scheme, token = authorization.split(" ", 1)
    assert scheme == "Payment" and "=" not in token and "+" not in token and "/" not in token
    data = unb64(token)
    assert data["payload"] == {"spt": "spt_123"}
    assert data["challenge"] == {
        "id": "abc",
        "realm": REALM,
        "method": "stripe",
        "intent": "charge",
        "request": raw_request,  # exactly as received
        "expires": "2030-01-01T00:00:00Z",
        "digest": "sha-256=xyz",
        "opaque": "eyJvcmRlciI6Im8xIn0",
        "description": "A thing",
    }


def test_b17_external_id_is_echoed_in_the_payload():
    challenge = Challenge.create(
        secret_key=SECRET,
        realm=REALM,
        method="stripe",
        intent="charge",
        request=dict(REQUEST, externalId="order_1"),
    )
    data = unb64(wire.build_credential(challenge, "spt_9").split(" ", 1)[1])
    assert data["payload"] == {"spt": "spt_9", "externalId": "order_1"}


def test_b18_our_credential_parses_with_pympp():
    challenge = Challenge.create(
        secret_key=SECRET,
        realm=REALM,
        method="stripe",
        intent="charge",
        request=REQUEST,
        expires="2030-01-01T00:00:00Z",
    )
    credential = Credential.from_authorization(wire.build_credential(challenge, "spt_1"))
    assert credential.challenge.id == challenge.id
    assert credential.payload == {"spt": "spt_1"}
    assert wire.echo_to_challenge(credential.challenge).verify(SECRET, REALM)


def _receipt(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def test_b19_receipt_parsing():
    good = {
        "status": "success",
        "method": "stripe",
        "timestamp": "2026-01-01T00:00:00Z",
        "reference": "pi_1",
        "challengeId": "c1",
        "externalId": "o1",
    }
    out = wire.receipt_to_dict(wire.parse_receipt(_receipt(good)))
    assert out == {
        "status": "success",
        "method": "stripe",
        "reference": "pi_1",
        "timestamp": "2026-01-01T00:00:00Z",
        "externalId": "o1",
        "challengeId": "c1",
    }
    for broken in (
        {k: v for k, v in good.items() if k != "reference"},
        dict(good, status="failed"),
        dict(good, timestamp="yesterday"),
    ):
        with pytest.raises(mpp.ParseError):
            wire.parse_receipt(_receipt(broken))


def test_b19_success_receipt_round_trips():
    header = wire.success_receipt("pi_42", method="stripe", challengeId="c9")
    out = wire.receipt_to_dict(wire.parse_receipt(header))
    assert out["reference"] == "pi_42" and out["challengeId"] == "c9" and out["status"] == "success"


def test_b20_hmac_golden_vectors():
    v1 = wire.generate_challenge_id(
        secret_key=SECRET,
        realm=REALM,
        method="stripe",
        intent="charge",
        request=REQUEST,
        expires="2030-01-01T00:00:00Z",
    )
    assert v1 == "ltaQIrxYqgUnZASOiygft1mNyR24-apOQ0M_SX4nPOY"
    v2 = wire.generate_challenge_id(
        secret_key=SECRET,
        realm=REALM,
        method="stripe",
        intent="charge",
        request=REQUEST,
        expires="2030-01-01T00:00:00Z",
        digest="sha-256=abc",
        opaque={"order": "o1"},
    )
    assert v2 == "HiFjn_egHwi_DGR_Dg2jBo8NC-Twsc4MM0k6laFroPA"
    assert wire.canonical_b64url(REQUEST) == (
        "eyJhbW91bnQiOiI1MDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6InByb2ZpbGVfMTIzIiwicGF5bWVudE1ldGhvZFR5cGVzIjpbImNhcmQiLCJsaW5rIl19fQ"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"realm": "other.example.com"},
        {"method": "tempo"},
        {"intent": "session"},
        {"request": dict(REQUEST, amount="5001")},
        {"expires": "2030-01-01T00:00:01Z"},
        {"digest": "sha-256=abd"},
        {"opaque": {"order": "o2"}},
    ],
)
def test_b20_changing_any_slot_changes_the_id(change):
    base = dict(
        secret_key=SECRET,
        realm=REALM,
        method="stripe",
        intent="charge",
        request=REQUEST,
        expires="2030-01-01T00:00:00Z",
        digest="sha-256=abc",
        opaque={"order": "o1"},
    )
    assert wire.generate_challenge_id(**base) != wire.generate_challenge_id(**{**base, **change})


def test_b20_key_order_does_not_change_the_id():
    reordered = {
        "methodDetails": {"networkId": "profile_123", "paymentMethodTypes": ["card", "link"]},
        "currency": "usd",
        "amount": "5000",
    }
    a = wire.generate_challenge_id(
        secret_key=SECRET, realm=REALM, method="stripe", intent="charge", request=REQUEST
    )
    b = wire.generate_challenge_id(
        secret_key=SECRET, realm=REALM, method="stripe", intent="charge", request=reordered
    )
    assert a == b


def test_payment_credentials_are_extracted_from_multi_scheme_authorization():
    assert wire.extract_payment_credentials(["Bearer abc, Payment eyJh_-x"]) == ["Payment eyJh_-x"]
    assert wire.extract_payment_credentials(["Bearer abc"]) == []
    assert len(wire.extract_payment_credentials(["Payment a", "Payment b"])) == 2


def test_x402_detection_lists_offers_sanitized():
    body = {
        "x402Version": 2,
        "accepts": [{"scheme": "exact", "network": "eip155:8453\x1b[2J", "amount": "10000"}],
    }
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    error = detect_x402({"payment-required": encoded})
    assert error is not None and error.code == "UNSUPPORTED_PROTOCOL"
    assert "x402" in error.message and "not supported" in error.message
    assert error.extra["offers"] == [
        {"scheme": "exact", "network": "eip155:8453", "amount": "10000"}
    ]
    assert detect_x402({}, json.dumps(body).encode()) is not None
    assert detect_x402({}, b'{"type": "x"}') is None


def test_expires_parsing():
    assert wire.parse_expires("2030-01-01T00:00:00.123Z") == datetime(
        2030, 1, 1, 0, 0, 0, 123000, tzinfo=UTC
    )
    assert wire.parse_expires("2030-01-01T02:00:00+02:00") == datetime(2030, 1, 1, tzinfo=UTC)
