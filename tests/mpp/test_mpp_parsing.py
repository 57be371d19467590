"""Conformance group A: parsing and selecting challenges, `mpp decode`."""

import base64
import json
from datetime import UTC, datetime

import pytest

from linkpay.mpp import wire
from linkpay.mpp.charge import select_stripe
from linkpay.mpp.client import decode
from linkpay.mpp.errors import (
    ChallengeParseError,
    InvalidStripeRequestError,
    MppError,
    NoStripeChallengeError,
)
from mpp import Challenge

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REQUEST = {
    "amount": "5000",
    "currency": "usd",
    "methodDetails": {"networkId": "profile_123", "paymentMethodTypes": ["card", "link"]},
}


def b64(obj, *, standard=False) -> str:
    raw = json.dumps(obj).encode()
    if standard:
        return base64.b64encode(raw).decode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def header(cid="ch_1", method="stripe", intent="charge", request=REQUEST, extra="", **kw) -> str:
    req = request if isinstance(request, str) else b64(request)
    parts = [f'id="{cid}"', 'realm="merchant.example"', f'method="{method}"', f'intent="{intent}"']
    parts.append(f'request="{req}"')
    parts += [f'{k}="{v}"' for k, v in kw.items()]
    return "Payment " + ", ".join(parts) + extra


def test_a1_single_stripe_challenge_decodes_every_field():
    value = header(expires="2030-01-01T00:00:00Z", description="One fortune", digest="sha-256=abc")
    out = decode(value, now=NOW)
    assert out == {
        "id": "ch_1",
        "realm": "merchant.example",
        "method": "stripe",
        "intent": "charge",
        "description": "One fortune",
        "digest": "sha-256=abc",
        "expires": "2030-01-01T00:00:00Z",
        "network_id": "profile_123",
        "amount": 5000,
        "currency": "usd",
        "request_json": REQUEST,
        "expired": False,
    }


def test_a2_merged_header_with_bearer_and_tempo_picks_stripe():
    value = (
        'Bearer realm="x", '
        + header("tempo_1", method="tempo", request={"amount": "1"})
        + ", "
        + header("ch_2")
    )
    parsed = wire.parse_challenges(value)
    assert [p.challenge.id for p in parsed] == ["tempo_1", "ch_2"]  # Bearer skipped
    assert decode(value)["id"] == "ch_2"


def test_a3_separate_header_lines_are_all_parsed():
    parsed = wire.parse_challenges([header("tempo_1", method="tempo"), header("ch_3")])
    assert [(p.challenge.id, p.challenge.method) for p in parsed] == [
        ("tempo_1", "tempo"),
        ("ch_3", "stripe"),
    ]


def test_a4_quoted_commas_and_escaped_quotes_in_description():
    value = header(extra=r', description="Plan \"Pro\", monthly"')
    assert decode(value)["description"] == 'Plan "Pro", monthly'


def test_a5_unicode_escapes_round_trip():
    challenge = Challenge.create(
        secret_key="k",
        realm="r",
        method="stripe",
        intent="charge",
        request=REQUEST,
        description="Café ☕ naïve",
    )
    value = challenge.to_www_authenticate("r")
    assert "\\u2615" in value  # above Latin-1 is escaped on the wire
    [parsed] = wire.parse_challenges(value)
    assert parsed.challenge.description == "Café ☕ naïve"


def test_a6_token_values_accepted_and_unknown_params_ignored():
    value = f"Payment id=ch_6, realm=merchant.example, method=stripe, intent=charge, request={b64(REQUEST)}, future=thing"  # noqa: E501
    out = decode(value)
    assert out["id"] == "ch_6" and out["network_id"] == "profile_123"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('Payment realm="r", method="stripe", intent="charge", request="e30"', "id"),
        ('Payment id="", realm="r", method="stripe", intent="charge", request="e30"', "id"),
        ('Payment id="a", method="stripe", intent="charge", request="e30"', "realm"),
        ('Payment id="a", realm="r", intent="charge", request="e30"', "method"),
        ('Payment id="a", realm="r", method="stripe", request="e30"', "intent"),
        ('Payment id="a", realm="r", method="stripe", intent="charge"', "request"),
        (
            'Payment id="a", id="b", realm="r", method="stripe", intent="charge", request="e30"',
            "uplicate",
        ),
        ('Payment id="a", realm="r", method="Stripe", intent="charge", request="e30"', "method"),
        ('Payment id="a", realm="r", method="stripe", intent="charge", request="!!!"', ""),
        (
            'Payment id="a", realm="r", method="stripe", intent="charge", request="bm90IGpzb24"',
            "JSON",
        ),
        (
            'Payment id="a", realm="r", method="stripe", intent="charge", request="WzEsMl0"',
            "object",
        ),
        (
            'Payment id="a", realm="r", method="stripe", intent="charge", request="InN0ciI"',
            "object",
        ),
        (
            'Payment id="a", realm="r", method="stripe", intent="charge", request="e30", opaque="eyJhIjp7ImIiOiJjIn19"',  # noqa: E501
            "opaque",
        ),
        (
            'Payment id="a", realm="r", method="stripe", intent="charge", request="e30", description="open',  # noqa: E501
            "unterminated",
        ),
    ],
)
def test_a7_malformed_challenges_are_rejected(value, fragment):
    [parsed] = wire.parse_challenges(value)
    assert parsed.challenge is None
    assert fragment.lower() in parsed.error.lower()
    with pytest.raises(MppError):
        decode(value)


def test_a7_request_over_16_kib_is_rejected():
    big = dict(REQUEST, description="x" * 17000)
    [parsed] = wire.parse_challenges(header(request=big))
    assert parsed.challenge is None and "size" in parsed.error.lower()


def test_a7_broken_challenge_does_not_hide_a_later_valid_one():
    value = 'Payment id="", realm="r", method="stripe", intent="charge", request="e30", ' + header(
        "ok"
    )
    assert decode(value)["id"] == "ok"


def test_a8_standard_base64_with_padding_plus_and_slash():
    request = dict(REQUEST, description="~~~>>>???")  # encodes with + and / in standard b64
    encoded = b64(request, standard=True)
    assert "=" in encoded or "+" in encoded or "/" in encoded
    assert decode(header(request=encoded))["request_json"] == request


@pytest.mark.parametrize(
    ("request_obj", "message"),
    [
        ({"currency": "usd", "methodDetails": {"networkId": "p"}}, "amount: missing"),
        (
            {"amount": 100, "currency": "usd", "methodDetails": {"networkId": "p"}},
            "amount: expected string, received number",
        ),
        ({"amount": "01", "currency": "usd", "methodDetails": {"networkId": "p"}}, "amount:"),
        ({"amount": "-5", "currency": "usd", "methodDetails": {"networkId": "p"}}, "amount:"),
        ({"amount": "1.5", "currency": "usd", "methodDetails": {"networkId": "p"}}, "amount:"),
        ({"amount": "0", "currency": "usd", "methodDetails": {"networkId": "p"}}, "amount:"),
        ({"amount": "100", "methodDetails": {"networkId": "p"}}, "currency: missing"),
        ({"amount": "100", "currency": "USD", "methodDetails": {"networkId": "p"}}, "currency:"),
        (
            {"amount": "100", "currency": "dollars", "methodDetails": {"networkId": "p"}},
            "currency:",
        ),
        (
            {"amount": "100", "currency": "usd", "methodDetails": "p"},
            "methodDetails: expected object",
        ),
        (
            {"amount": "100", "currency": "usd", "methodDetails": {"paymentMethodTypes": ["card"]}},
            "methodDetails.networkId: missing",
        ),
    ],
)
def test_a9_stripe_request_validation_names_the_field(request_obj, message):
    with pytest.raises(InvalidStripeRequestError) as info:
        decode(header(request=request_obj))
    assert info.value.message.startswith("Invalid stripe challenge request: ")
    assert message in info.value.message


def test_a9_legacy_top_level_network_id_is_accepted_and_flagged():
    out = decode(header(request={"amount": "100", "currency": "usd", "networkId": "profile_old"}))
    assert out["network_id"] == "profile_old" and out["legacy_network_id"] is True


def test_a10_no_stripe_challenge():
    value = 'Payment id="tempo_001", realm="merchant.example", method="tempo", intent="charge", request="e30="'  # noqa: E501
    with pytest.raises(NoStripeChallengeError, match="does not include a stripe charge"):
        decode(value)


def test_a11_stripe_session_decodes_but_pay_selection_needs_charge():
    value = header("sess_1", intent="session")
    assert decode(value)["intent"] == "session"
    with pytest.raises(NoStripeChallengeError):
        select_stripe(wire.parse_challenges(value), ("charge",))


def test_a12_expired_challenge_is_flagged():
    out = decode(header(expires="2025-12-31T23:59:59Z"), now=NOW)
    assert out["expired"] is True


@pytest.mark.parametrize("expires", ["2030-01-01T00:00:00", "tomorrow", "2030-13-45T00:00:00Z"])
def test_a13_expires_without_timezone_or_unparseable_is_rejected(expires):
    [parsed] = wire.parse_challenges(header(expires=expires))
    assert parsed.challenge is None and "expires" in parsed.error


def test_a14_output_is_sanitized_recursively():
    nasty = {
        "amount": "100",
        "currency": "usd",
        "description": "A\x1b[2Jb\rc\x00d\x7fe\nf\tg",
        "methodDetails": {
            "networkId": "profile_\x1b]0;pwned\x07x",
            "paymentMethodTypes": ["ca\x1b[31mrd"],
        },
    }
    out = decode(header(request=nasty, extra=', description="Nice\x1b[5m one"'))
    assert out["request_json"]["description"] == "Abcde\nf\tg"
    assert out["network_id"] == "profile_x"
    assert out["request_json"]["methodDetails"]["paymentMethodTypes"] == ["card"]
    assert out["description"] == "Nice one"
    assert "\x1b" not in json.dumps(out)


def test_a15_live_climate_stripe_dev_header():
    value = " ".join(
        [
            'Payment id="gc2RV-_QuqyahPkrJPAmrVA4Iqam240ab6gGU4UmMXc", realm="climatestripe-d6929lvln.vercelapp.stripe.dev", method="tempo", intent="charge", request="eyJhbW91bnQiOiIxMDAwMDAwIiwiY3VycmVuY3kiOiIweDIwYzAwMDAwMDAwMDAwMDAwMDAwMDAwMGI5NTM3ZDExYzYwZThiNTAiLCJtZXRob2REZXRhaWxzIjp7ImNoYWluSWQiOjQyMTd9LCJyZWNpcGllbnQiOiIweDdiOWNhZTNjNmYzMzlkODY0YzdjNGNlZWVjOTcwM2M4NjRhNjhjOGIifQ", expires="2026-04-20T23:27:21.154Z",',  # noqa: E501
            'Payment id="ZcLbITjkJRIuYj1PPaHLi9b8OHqFS3DLyzRWRLupZGY", realm="climatestripe-d6929lvln.vercelapp.stripe.dev", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAiLCJjdXJyZW5jeSI6InVzZCIsIm1ldGhvZERldGFpbHMiOnsibmV0d29ya0lkIjoicHJvZmlsZV82MVUxV25hT1JRNWRBQThaekE2VTFXbmExWlNRVDJXQWVCYXd3cVVwYzBQMiIsInBheW1lbnRNZXRob2RUeXBlcyI6WyJjYXJkIiwibGluayJdfX0", description="Climate contribution", expires="2026-04-20T23:27:19.863Z"',  # noqa: E501
        ]
    )
    out = decode(value, now=NOW)
    assert out["id"] == "ZcLbITjkJRIuYj1PPaHLi9b8OHqFS3DLyzRWRLupZGY"
    assert out["network_id"] == "profile_61U1WnaORQ5dAA8ZzA6U1Wna1ZSQT2WAeBawwqUpc0P2"
    assert out["request_json"]["amount"] == "100"
    assert out["description"] == "Climate contribution"
    assert out["expired"] is False


def test_decode_rejects_empty_input():
    with pytest.raises(MppError) as info:
        decode("   ")
    assert info.value.code == "INVALID_INPUT"


def test_invalid_stripe_challenge_reports_parse_error_when_nothing_valid():
    with pytest.raises(ChallengeParseError):
        decode('Payment id="", realm="r", method="stripe", intent="charge", request="e30"')


@pytest.mark.parametrize("method", ['method="stripe"', "method=stripe", 'METHOD = "stripe"'])
def test_broken_stripe_challenge_error_names_the_real_problem(method):
    value = f'Payment id="", realm="r", {method}, intent="charge", request="e30"'
    with pytest.raises(ChallengeParseError, match="Missing 'id'"):
        decode(value)
    tempo = 'Payment id="", realm="r", method="tempo", intent="charge", request="e30"'
    with pytest.raises(NoStripeChallengeError, match="could not be parsed"):
        decode(tempo)
