"""`mpp decode` and `mpp pay`: the Machine Payments Protocol (HTTP 402) commands.

Both only parse flags and delegate to `linkpay.mpp.client`; the rules (challenge
selection, binding checks, send-once) live there.
"""

import shlex
from typing import Annotated, Any

from pydantic import Field

from linkpay.cli.registry import CommandInput, Context, Flag, command

DECODE_DESCRIPTION = (
    "Decode a Payment challenge (WWW-Authenticate value) and show its stripe charge: id, "
    "realm, amount, currency, network_id (for an SPT spend request), expiry."
)
PAY_DESCRIPTION = (
    "Pay an HTTP 402 (MPP) endpoint with a shared payment token. Without "
    "--spend-request-id: creates the SPT spend request from the merchant's challenge and "
    "returns the next steps. With an approved one: pays exactly once and returns the "
    "merchant's answer and receipt."
)


class DecodeInput(CommandInput):
    """Input of `mpp decode`."""

    challenge: Annotated[
        str,
        Field(description="The raw WWW-Authenticate header value of the merchant's 402 answer"),
    ]


@command("mpp", "decode", input=DecodeInput, description=DECODE_DESCRIPTION, read_only=True)
def decode(inp: DecodeInput, ctx: Context) -> dict[str, Any]:
    from linkpay.mpp.client import decode as decode_challenge

    return decode_challenge(inp.challenge)


class PayInput(CommandInput):
    """Input of `mpp pay`."""

    url: Annotated[str, Flag(positional=True), Field(description="The URL to fetch and pay")]
    spend_request_id: Annotated[
        str | None,
        Field(description="An approved shared_payment_token spend request (lsrq_…)"),
    ] = None
    method: Annotated[
        str | None,
        Flag(aliases=("-X",)),
        Field(description="HTTP method (default GET, or POST with --data)"),
    ] = None
    data: Annotated[
        str | None,
        Flag(aliases=("-d",)),
        Field(description="Request body (Content-Type application/json unless -H sets one)"),
    ] = None
    header: Annotated[
        list[str] | None,
        Flag(aliases=("-H",)),
        Field(description="Request header 'Name: Value' (repeatable)"),
    ] = None
    context: Annotated[
        str | None,
        Field(
            description="For a new spend request: what is bought and why (≥ 100 characters)",
        ),
    ] = None
    amount: Annotated[
        int | None,
        Field(
            gt=0, description="Amount to request approval for, in cents (default: the challenge's)"
        ),
    ] = None
    payment_method_id: Annotated[
        str | None, Field(description="Payment method (default: the person's default)")
    ] = None
    test: Annotated[bool, Field(description="Create the spend request in test mode")] = False


def _pay_command(inp: PayInput, spend_request_id: str) -> str:
    words = ["link-cli", "mpp", "pay", shlex.quote(inp.url), "--spend-request-id", spend_request_id]
    if inp.method:
        words += ["-X", shlex.quote(inp.method)]
    if inp.data is not None:
        words += ["-d", shlex.quote(inp.data)]
    for line in inp.header or []:
        words += ["-H", shlex.quote(line)]
    return " ".join(words)


@command("mpp", "pay", input=PayInput, description=PAY_DESCRIPTION, destructive=True)
def pay(inp: PayInput, ctx: Context) -> dict[str, Any]:
    from linkpay.mpp.client import pay as pay_url

    link = ctx.link()
    kwargs: dict[str, Any] = {
        "method": inp.method,
        "data": inp.data,
        "headers": inp.header or [],
    }
    if ctx.verbose:
        kwargs["log"] = lambda line: print(line, file=ctx.stderr)
    from linkpay.cli.registry import CommandError
    from linkpay.client.errors import ApiError

    try:
        result = pay_url(
            inp.url,
            link=link,
            spend_request_id=inp.spend_request_id,
            context=inp.context,
            amount=inp.amount,
            payment_method_id=inp.payment_method_id,
            test=inp.test,
            **kwargs,
        )
    except ApiError as exc:
        if exc.extra.get("param") == "payment_details" and "no payment method" in exc.message:
            raise CommandError(
                "NO_PAYMENT_METHOD",
                "The person has no payment method yet; they must add one in their wallet.",
                _next=ctx.next_step(("payment-methods", "add")),
            ) from None
        raise
    if not result.get("approval_required"):
        return result

    spend_request = result["spend_request"]
    sid = spend_request["id"]
    if ctx.human and ctx.mode == "cli":
        return _wait_then_pay(inp, ctx, link, spend_request, kwargs)

    poll = ctx.next_step(("spend-request", "retrieve"), id=sid, interval=2, max_attempts=300)
    pay_command = _pay_command(inp, sid)
    next_hint: dict[str, Any] = {
        **poll,
        "poll_command": poll["command"],
        "pay_command": pay_command,
        "until": "status is approved (then run pay_command); stop if denied, expired or canceled",
    }
    if ctx.mode == "mcp":
        next_hint["then_tool"] = "mpp_pay"
        arguments = {
            "url": inp.url,
            "spend_request_id": sid,
            "method": inp.method,
            "data": inp.data,
            "header": inp.header,
        }
        next_hint["then_arguments"] = {k: v for k, v in arguments.items() if v not in (None, [])}
    result["instruction"] = (
        f"The merchant asks {spend_request['amount']} {spend_request['currency']} (network "
        f"{spend_request.get('network_id')}). The person must approve spend request {sid}"
        + (f" at {spend_request['approval_url']}" if spend_request.get("approval_url") else "")
        + ". Poll until approved, then run the pay command."
    )
    result["_next"] = next_hint
    return result


def _wait_then_pay(
    inp: PayInput, ctx: Context, link: Any, spend_request: dict[str, Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    from linkpay.cli.output.tty import show_link, spinner
    from linkpay.cli.registry import CommandError
    from linkpay.mpp.client import pay as pay_url

    sid = spend_request["id"]
    show_link(
        spend_request.get("approval_url") or sid,
        f"Ask the person to approve {spend_request['amount']} {spend_request['currency']} here",
        ctx.stderr,
    )
    with spinner("Waiting for the person's decision…", ctx.stderr):
        final = link.spend_requests.wait_for(sid, include=["shared_payment_token"])
    if final.status != "approved":
        raise CommandError(
            "SPEND_REQUEST_NOT_APPROVED",
            f"Spend request {sid} ended {final.status}; nothing was paid.",
            id=sid,
            status=final.status,
        )
    return pay_url(inp.url, link=link, spend_request_id=sid, **kwargs)
