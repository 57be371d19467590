"""Conformance group C: `mpp pay` against merchants on loopback.

The merchants are real HTTP servers (uvicorn on 127.0.0.1); the spend request side is
a stand-in SDK object here — test_mpp_e2e.py runs the same flow against the real wallet.
"""

import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from mpp_helpers import (
    NETWORK_ID,
    RecordingProcessor,
    StubLink,
    approved_spend_request,
    make_app,
    make_gate,
)
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from linkpay.mpp import client as mpp_client
from linkpay.mpp import wire
from linkpay.mpp.errors import MppError
from linkpay.serving import serve_in_thread

CONTEXT = "Buying one fortune from the demo merchant's paid API because the user asked for a fortune today, for testing."  # noqa: E501


class Recorder:
    """ASGI wrapper that records every request (method, path, headers, body)."""

    def __init__(self, app):
        self.app = app
        self.requests: list[dict] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "body": body,
                "headers": [(k.decode().lower(), v.decode()) for k, v in scope["headers"]],
            }
        )
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def header(self, index: int, name: str) -> list[str]:
        return [v for k, v in self.requests[index]["headers"] if k == name]


@pytest.fixture
def merchant():
    """The real payment gate app with a recording processor, served on loopback."""
    processor = RecordingProcessor()
    recorder = Recorder(make_app(make_gate(processor)))
    with serve_in_thread(lambda base: recorder) as served:
        served.recorder = recorder
        served.processor = processor
        yield served


def scripted(handler):
    """A merchant whose every answer comes from `handler(request) -> Response`, served
    over h11: httptools refuses to send the control characters a hostile merchant's
    headers carry here (test_c31), and h11 sends them as they are."""

    async def endpoint(request):
        return handler(request)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT"])])
    recorder = Recorder(app)
    served = serve_in_thread(lambda base: recorder, http="h11")
    served.recorder = recorder
    return served


def link_with(spend_request=None) -> StubLink:
    link = StubLink()
    link.spend_requests.current = spend_request
    return link


def stripe_challenge_header(
    amount="100", currency="usd", network_id=NETWORK_ID, cid="c1", expires=None
):
    request = {
        "amount": amount,
        "currency": currency,
        "methodDetails": {"networkId": network_id, "paymentMethodTypes": ["card"]},
    }
    expires = expires or wire.format_expires(datetime.now(UTC) + timedelta(minutes=5))
    return (
        f'Payment id="{cid}", realm="scripted", method="stripe", intent="charge", '
        f'request="{wire.canonical_b64url(request)}", expires="{expires}"'
    )


def test_c21_non_402_passes_through_without_paying():
    with scripted(lambda r: JSONResponse({"free": True}, headers={"X-Thing": "1"})) as served:
        link = link_with()
        out = mpp_client.pay(f"{served.base_url}/free", link=link, context=CONTEXT)
    assert out["paid"] is False and out["status"] == 200
    assert out["body"] == '{"free":true}' and out["headers"]["x-thing"] == "1"
    assert len(served.recorder.requests) == 1
    assert link.spend_requests.created == [] and link.spend_requests.retrieved == []


def test_c22_402_without_challenge_is_invalid_response():
    with scripted(lambda r: Response("pay me", status_code=402)) as served:
        with pytest.raises(MppError) as info:
            mpp_client.pay(
                served.base_url + "/x",
                link=link_with(approved_spend_request()),
                spend_request_id="lsrq_approved",
            )
    assert info.value.code == "INVALID_RESPONSE"


def test_c23_happy_path_pays_once_and_decodes_the_receipt(merchant):
    link = link_with(approved_spend_request())
    out = mpp_client.pay(
        f"{merchant.base_url}/api/fortune", link=link, spend_request_id="lsrq_approved"
    )
    assert out["paid"] is True and out["status"] == 200
    assert out["receipt"]["status"] == "success" and out["receipt"]["method"] == "stripe"
    assert out["receipt"]["reference"].startswith("pi_")
    assert link.spend_requests.retrieved == [("lsrq_approved", ("shared_payment_token",))]
    requests = merchant.recorder.requests
    assert len(requests) == 2
    assert merchant.recorder.header(0, "authorization") == []
    [credential] = merchant.recorder.header(1, "authorization")
    assert credential.startswith("Payment ")
    assert [c["spt"] for c in merchant.processor.calls] == ["spt_test_123"]


def test_c24_retry_repeats_method_body_and_headers(merchant):
    link = link_with(approved_spend_request(amount=250))
    out = mpp_client.pay(
        f"{merchant.base_url}/api/order",
        link=link,
        spend_request_id="lsrq_approved",
        data='{"item": "mug"}',
        headers=["X-Trace: abc", "Accept: application/json"],
    )
    assert out["paid"] is True, out
    first, second = merchant.recorder.requests
    assert first["method"] == second["method"] == "POST"
    assert first["body"] == second["body"] == b'{"item": "mug"}'
    assert merchant.recorder.header(0, "accept-payment") == ["stripe/charge"]
    for name in ("content-type", "x-trace", "accept", "accept-payment"):
        assert merchant.recorder.header(0, name) == merchant.recorder.header(1, name)
    assert merchant.recorder.header(0, "content-type") == ["application/json"]
    # The order challenge carries externalId and a body digest; both were satisfied.
    assert merchant.processor.calls[0]["amount"] == 250


def test_c24_header_overrides_content_type(merchant):
    link = link_with(approved_spend_request(amount=250))
    mpp_client.pay(
        f"{merchant.base_url}/api/order",
        link=link,
        spend_request_id="lsrq_approved",
        data="{}",
        headers=["Content-Type: application/vnd.test+json"],
        method="post",
    )
    assert merchant.recorder.header(1, "content-type") == ["application/vnd.test+json"]


def test_c25_refused_payment_is_reported_once_and_needs_a_new_spend_request(merchant):
    merchant.processor.mode = "decline"
    out = mpp_client.pay(
        f"{merchant.base_url}/api/fortune",
        link=link_with(approved_spend_request()),
        spend_request_id="lsrq_approved",
    )
    assert out["paid"] is False and out["status"] == 402
    assert out["problem"]["slug"] == "verification-failed"
    assert out["new_spend_request_required"] is True
    assert "new spend request" in out["instruction"]
    assert out["spend_request_status"] == "approved"  # stand-in SDK: unchanged
    assert "receipt" not in out
    assert len(merchant.recorder.requests) == 2 and len(merchant.processor.calls) == 1


def test_c26_5xx_after_sending_is_outcome_unknown():
    def handler(request):
        if request.headers.get("authorization"):
            return Response("boom", status_code=503)
        return Response(status_code=402, headers={"WWW-Authenticate": stripe_challenge_header()})

    with scripted(handler) as served:
        with pytest.raises(MppError) as info:
            mpp_client.pay(
                served.base_url + "/x",
                link=link_with(approved_spend_request()),
                spend_request_id="lsrq_approved",
            )
    assert info.value.code == "PAYMENT_OUTCOME_UNKNOWN"
    assert "never pay again" in info.value.message
    assert info.value.extra["spend_request_status"] == "approved"  # the wallet's view
    assert len(served.recorder.requests) == 2


def test_c26_dropped_connection_after_sending_is_outcome_unknown():
    """A raw socket merchant that answers the probe, then hangs up on the paid request."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    seen: list[bytes] = []
    challenge = stripe_challenge_header()

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            seen.append(data)
            if b"authorization: payment" in data.lower():
                conn.close()  # credential received, no answer
                continue
            conn.sendall(
                b"HTTP/1.1 402 Payment Required\r\nContent-Length: 0\r\nConnection: close\r\n"
                + f"WWW-Authenticate: {challenge}\r\n\r\n".encode()
            )
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(MppError) as info:
            mpp_client.pay(
                f"http://127.0.0.1:{port}/x",
                link=link_with(approved_spend_request()),
                spend_request_id="lsrq_approved",
            )
    finally:
        thread.join(timeout=10)
        listener.close()
    assert info.value.code == "PAYMENT_OUTCOME_UNKNOWN"
    assert len(seen) == 2  # exactly one paid attempt, no automatic retry


@pytest.mark.parametrize(
    ("spend_request", "fragment"),
    [
        (approved_spend_request(status="pending_approval"), "not approved yet"),
        (approved_spend_request(status="succeeded"), "new spend request"),
        (approved_spend_request(status="denied"), "new spend request"),
        (approved_spend_request(credential_type="card"), "shared_payment_token"),
        (approved_spend_request(spt=None), "no shared payment token"),
        (approved_spend_request(valid_until="2020-01-01T00:00:00Z"), "expired"),
    ],
)
def test_c27_unusable_spend_request_fails_before_contacting_the_merchant(
    merchant, spend_request, fragment
):
    with pytest.raises(MppError) as info:
        mpp_client.pay(
            f"{merchant.base_url}/api/fortune",
            link=link_with(spend_request),
            spend_request_id="lsrq_approved",
        )
    assert info.value.code == "SPEND_REQUEST_NOT_USABLE"
    assert fragment in info.value.message
    assert merchant.recorder.requests == []


@pytest.mark.parametrize(
    ("spend_request", "fragment"),
    [
        (approved_spend_request(amount=99), "amount 100 is above the approved 99"),
        (approved_spend_request(currency="eur"), "currency usd differs"),
        (approved_spend_request(network_id="profile_other"), "network id"),
    ],
)
def test_c28_fresh_challenge_outside_the_approval_is_refused_before_sending(
    merchant, spend_request, fragment
):
    with pytest.raises(MppError) as info:
        mpp_client.pay(
            f"{merchant.base_url}/api/fortune",
            link=link_with(spend_request),
            spend_request_id="lsrq_approved",
        )
    assert info.value.code == "CHALLENGE_MISMATCH"
    assert fragment in info.value.message and "NOT sent" in info.value.message
    assert len(merchant.recorder.requests) == 1  # only the unpaid probe
    assert merchant.processor.calls == []


def test_c12_expired_challenge_is_refused_before_sending(merchant):
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(MppError) as info:
        mpp_client.pay(
            f"{merchant.base_url}/api/fortune",
            link=link_with(approved_spend_request()),
            spend_request_id="lsrq_approved",
            now=later,
        )
    assert info.value.code == "CHALLENGE_EXPIRED"
    assert len(merchant.recorder.requests) == 1


def test_c29_redirect_after_payment_is_not_followed():
    with scripted(lambda r: JSONResponse({"stolen": True})) as elsewhere:
        target = f"{elsewhere.base_url}/collect"

        def handler(request):
            if request.headers.get("authorization"):
                return Response(status_code=302, headers={"Location": target})
            return Response(
                status_code=402, headers={"WWW-Authenticate": stripe_challenge_header()}
            )

        with scripted(handler) as served:
            out = mpp_client.pay(
                served.base_url + "/x",
                link=link_with(approved_spend_request()),
                spend_request_id="lsrq_approved",
            )
        assert out["status"] == 302 and out["paid"] is False
        assert out["headers"]["location"] == target
        assert "may or may not have happened" in out["instruction"]
        assert "new_spend_request_required" not in out
        assert elsewhere.recorder.requests == []  # the credential never left the origin


def test_c29_redirect_on_probe_is_returned_not_followed():
    with scripted(
        lambda r: Response(status_code=301, headers={"Location": "https://example.com/"})
    ) as served:
        out = mpp_client.pay(served.base_url + "/x", link=link_with(), context=CONTEXT)
    assert out["status"] == 301 and len(served.recorder.requests) == 1


def test_c30_first_acceptable_stripe_challenge_is_used():
    invalid_request = wire.canonical_b64url({"amount": "100", "currency": "usd"})  # no networkId
    broken = f'Payment id="bad", realm="s", method="stripe", intent="charge", request="{invalid_request}"'  # noqa: E501
    seen_ids: list[str] = []

    def handler(request):
        auth = request.headers.get("authorization")
        if auth:
            seen_ids.append(wire.parse_credential(auth).challenge.id)
            return JSONResponse({"ok": True})
        response = Response(status_code=402)
        response.headers.append("WWW-Authenticate", broken)
        response.headers.append(
            "WWW-Authenticate",
            stripe_challenge_header(cid="good1") + ", " + stripe_challenge_header(cid="good2"),
        )
        return response

    with scripted(handler) as served:
        out = mpp_client.pay(
            served.base_url + "/x",
            link=link_with(approved_spend_request()),
            spend_request_id="lsrq_approved",
        )
    assert out["paid"] is True and seen_ids == ["good1"]


def test_c31_merchant_output_is_sanitized():
    def handler(request):
        if request.headers.get("authorization"):
            return Response("ok\x1b[2J\x1b]0;title\x07 done\r\n", headers={"X-Evil": "a\x1b[31mb"})
        return Response(status_code=402, headers={"WWW-Authenticate": stripe_challenge_header()})

    with scripted(handler) as served:
        out = mpp_client.pay(
            served.base_url + "/x",
            link=link_with(approved_spend_request()),
            spend_request_id="lsrq_approved",
        )
    assert out["body"] == "ok done\n"
    assert out["headers"]["x-evil"] == "ab"


def test_c32_x402_only_is_unsupported():
    import base64
    import json

    offer = base64.b64encode(
        json.dumps(
            {
                "x402Version": 2,
                "accepts": [{"scheme": "exact", "network": "eip155:8453", "amount": "10000"}],
            }
        ).encode()
    ).decode()
    with scripted(
        lambda r: Response(status_code=402, headers={"PAYMENT-REQUIRED": offer})
    ) as served:
        with pytest.raises(MppError) as info:
            mpp_client.pay(served.base_url + "/x", link=link_with(), context=CONTEXT)
    assert info.value.code == "UNSUPPORTED_PROTOCOL"
    assert "x402" in info.value.message and "not supported" in info.value.message


def test_c33_full_flow_creates_the_spt_spend_request(merchant):
    link = link_with()
    out = mpp_client.pay(f"{merchant.base_url}/api/fortune", link=link, context=CONTEXT, test=True)
    assert out["approval_required"] is True
    [body] = link.spend_requests.created
    assert body.credential_type == "shared_payment_token"
    assert body.network_id == NETWORK_ID and body.amount == 100 and body.currency == "usd"
    assert body.request_approval is True and body.test is True and body.merchant_name is None
    assert out["spend_request"]["id"] == "lsrq_new"
    assert out["challenge"]["amount"] == 100
    assert len(merchant.recorder.requests) == 1
    assert merchant.processor.calls == []


def test_c33_amount_override_and_its_floor(merchant):
    link = link_with()
    mpp_client.pay(f"{merchant.base_url}/api/fortune", link=link, context=CONTEXT, amount=150)
    assert link.spend_requests.created[0].amount == 150
    with pytest.raises(MppError) as info:
        mpp_client.pay(f"{merchant.base_url}/api/fortune", link=link, context=CONTEXT, amount=50)
    assert info.value.code == "INVALID_INPUT" and "below" in info.value.message


def test_c33_short_context_is_refused_before_any_request(merchant):
    with pytest.raises(MppError) as info:
        mpp_client.pay(f"{merchant.base_url}/api/fortune", link=link_with(), context="too short")
    assert info.value.code == "INVALID_INPUT" and "--context" in info.value.message
    assert merchant.recorder.requests == []


def test_c33_amount_over_the_wire_limit_is_invalid_input_naming_the_field(merchant):
    # The SpendRequestCreate validation error becomes {code, message}, not a traceback.
    from linkpay.wire import MAX_AMOUNT

    link = link_with()
    with pytest.raises(MppError) as info:
        mpp_client.pay(
            f"{merchant.base_url}/api/fortune", link=link, context=CONTEXT, amount=MAX_AMOUNT + 1
        )
    assert info.value.code == "INVALID_INPUT"
    assert info.value.message.startswith("amount: ")
    assert link.spend_requests.created == []


def test_c33_next_steps_reproduce_flags_safely_quoted(merchant):
    from linkpay.cli.commands.mpp import PayInput, pay
    from linkpay.cli.registry import Context

    ctx = Context(mode="cli", format="json", human=False)
    ctx._link = link_with()
    inp = PayInput(
        url=f"{merchant.base_url}/api/order",
        method="POST",
        data='{"note": "it\'s $HOME"}',
        header=["X-Trace: a b"],
        context=CONTEXT,
    )
    out = pay(inp, ctx)
    pay_command = out["_next"]["pay_command"]
    import shlex

    words = shlex.split(pay_command)
    assert words[:4] == ["link-cli", "mpp", "pay", f"{merchant.base_url}/api/order"]
    assert words[words.index("-d") + 1] == '{"note": "it\'s $HOME"}'
    assert words[words.index("-H") + 1] == "X-Trace: a b"
    assert words[words.index("--spend-request-id") + 1] == "lsrq_new"
    assert "lsrq_new" in out["_next"]["command"] and "instruction" in out


@pytest.mark.parametrize("url", ["http://example.com/pay", "ftp://127.0.0.1/x", "/relative"])
def test_https_only_except_loopback(url):
    with pytest.raises(MppError) as info:
        mpp_client.pay(url, link=link_with(), context=CONTEXT)
    assert info.value.code == "INVALID_INPUT"


@pytest.mark.parametrize("bad", ["NoColonHere", ": empty name", "Bad Name: x"])
def test_malformed_header_flag(bad):
    with pytest.raises(MppError) as info:
        mpp_client.pay("https://example.com/x", link=link_with(), context=CONTEXT, headers=[bad])
    assert info.value.code == "INVALID_INPUT"


@pytest.mark.parametrize(("decision", "paid"), [("approved", True), ("denied", False)])
def test_on_a_tty_pay_waits_for_the_person_then_pays(merchant, decision, paid):
    import io

    from linkpay.cli.commands.mpp import PayInput, pay
    from linkpay.cli.registry import CommandError, Context

    stderr = io.StringIO()
    ctx = Context(mode="cli", format="toon", human=True, stderr=stderr)
    link = link_with()
    link.spend_requests.outcome_after_wait = approved_spend_request(status=decision)
    ctx._link = link
    inp = PayInput(url=f"{merchant.base_url}/api/fortune", context=CONTEXT)
    if paid:
        out = pay(inp, ctx)
        assert out["paid"] is True and out["receipt"]["status"] == "success"
        assert len(merchant.processor.calls) == 1
    else:
        with pytest.raises(CommandError) as info:
            pay(inp, ctx)
        assert info.value.code == "SPEND_REQUEST_NOT_APPROVED"
        assert merchant.processor.calls == []
    assert link.spend_requests.waited == ["lsrq_new"]
    assert "http://127.0.0.1:8765/approve/lsrq_new" in stderr.getvalue()


def test_merchant_requests_go_through_link_http_proxy(monkeypatch):
    """LINK_HTTP_PROXY routes every request, merchant ones included (cli.md)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    seen: list[bytes] = []

    def serve():
        conn, _ = listener.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        seen.append(data)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nvia proxy")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setenv("LINK_HTTP_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        out = mpp_client.pay("http://127.0.0.1:9/resource", link=link_with(), context=CONTEXT)
    finally:
        thread.join(timeout=10)
        listener.close()
    assert out["status"] == 200 and out["body"] == "via proxy"
    assert seen[0].startswith(b"GET http://127.0.0.1:9/resource HTTP/1.1")


def test_verbose_log_never_shows_the_credential_or_token(merchant):
    lines: list[str] = []
    out = mpp_client.pay(
        f"{merchant.base_url}/api/fortune",
        link=link_with(approved_spend_request()),
        spend_request_id="lsrq_approved",
        log=lines.append,
    )
    assert out["paid"] is True
    text = "\n".join(lines)
    assert "mpp > GET " in text and "mpp < 402 " in text and "mpp < 200 " in text
    assert "Payment [redacted]" in text
    [credential] = merchant.recorder.header(1, "authorization")
    assert credential.split(" ", 1)[1] not in text
    assert "spt_test_123" not in text
    assert out["headers"]["payment-receipt"] not in text
