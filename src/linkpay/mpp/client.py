"""The agent side of MPP: `decode` a challenge and `pay` a 402-protected URL.

`pay` is deliberately not pympp's auto-paying transport: a shared payment token (SPT)
is one use, approved by a person for one amount at one merchant, so every step is
explicit and happens at most once:

1. With `spend_request_id`: fetch the spend request (`include=shared_payment_token`)
   and refuse early unless it is an approved SPT request holding a token.
2. Probe the URL without a credential (no redirects followed). Anything but 402 is
   returned as it is: nothing is paid.
3. On 402, pick the first valid stripe/charge challenge (x402 gets a clear "not
   supported"), refuse an expired one, and check it against what the person approved:
   amount not above, same currency, same network id. Only then build the credential.
4. Send it exactly once: same URL, method, body and headers, no redirects. A network
   failure or 5xx after sending is "outcome unknown" and is never retried; any other
   failure says a new spend request is needed, because the token may be spent.

Without `spend_request_id`, `pay` creates the SPT spend request from the challenge
(amount, currency, network id) and returns it so the caller can wait for approval.

HTTPS only, except loopback (local merchants and tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from linkpay.mpp import wire
from linkpay.mpp.charge import StripeCharge, select_stripe
from linkpay.mpp.errors import (
    NEW_SPEND_REQUEST_ADVICE,
    ChallengeExpiredError,
    ChallengeMismatchError,
    InvalidInputError,
    InvalidResponseError,
    NetworkError,
    PaymentOutcomeUnknownError,
    SpendRequestUnusableError,
)
from linkpay.mpp.exchange import (
    HttpRequestSpec,
    log_hooks,
    response_result,
    send,
    tls_context,
)
from linkpay.mpp.x402 import detect_x402
from linkpay.text import sanitize_deep, sanitize_text

if TYPE_CHECKING:  # httpx2 is imported when paying, not for `mpp decode`
    import httpx2

DECODE_INTENTS = ("charge", "session")


# --------------------------------------------------------------------------- decode


def decode(challenge_header: str | Sequence[str], *, now: datetime | None = None) -> dict[str, Any]:
    """`mpp decode`: the first stripe challenge of a raw WWW-Authenticate value, sanitized."""
    if isinstance(challenge_header, str) and not challenge_header.strip():
        raise InvalidInputError("--challenge is empty: pass the raw WWW-Authenticate value")
    challenge, charge = select_stripe(wire.parse_challenges(challenge_header), DECODE_INTENTS)
    return sanitize_deep(_challenge_summary(challenge, charge, now=now))


def _challenge_summary(
    challenge: wire.Challenge, charge: StripeCharge, *, now: datetime | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": challenge.id,
        "realm": challenge.realm,
        "method": challenge.method,
        "intent": challenge.intent,
    }
    for key in ("description", "digest", "expires"):
        value = getattr(challenge, key)
        if value is not None:
            out[key] = value
    out["network_id"] = charge.network_id
    out["amount"] = charge.amount
    out["currency"] = charge.currency
    out["request_json"] = challenge.request
    out["expired"] = _is_expired(challenge, now)
    if charge.legacy_network_id:
        out["legacy_network_id"] = True
    return out


def _is_expired(challenge: wire.Challenge, now: datetime | None) -> bool:
    if not challenge.expires:
        return False
    return wire.parse_expires(challenge.expires) <= (now or datetime.now(UTC))


# --------------------------------------------------------------------------- pay


def pay(
    url: str,
    *,
    link: Any,
    method: str | None = None,
    data: str | None = None,
    headers: Sequence[str] = (),
    spend_request_id: str | None = None,
    context: str | None = None,
    amount: int | None = None,
    payment_method_id: str | None = None,
    test: bool = False,
    timeout: float = 30.0,
    transport: Any = None,
    proxy: str | None = None,
    log: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`mpp pay`. Returns the merchant's answer (`paid`, `status`, `headers`, `body`,
    `receipt`…) or, without `spend_request_id`, `{"approval_required": True,
    "spend_request": …}` for the caller to wait on. Raises `MppError`/`LinkError`.
    Merchant requests go through `proxy` (default: `LINK_HTTP_PROXY`) like the SDK's;
    `log` (the CLI's --verbose) sees each merchant request and answer, secrets redacted."""
    import httpx2

    spec = HttpRequestSpec.build(url, method=method, data=data, headers=headers)
    if spend_request_id is None:
        _check_context(context)
        if amount is not None and amount <= 0:
            raise InvalidInputError("--amount must be a positive integer (minor units)")
    spend_request = None
    if spend_request_id is not None:
        spend_request = link.spend_requests.retrieve(
            spend_request_id, include=["shared_payment_token"]
        )
        _check_usable(spend_request, now)

    proxy = proxy or os.environ.get("LINK_HTTP_PROXY") or None
    with httpx2.Client(
        timeout=timeout,
        follow_redirects=False,
        transport=transport,
        proxy=proxy,
        verify=tls_context(),
        event_hooks=log_hooks(log),
    ) as http:
        probe = send(http, spec, extra=None)
        if probe.status_code != 402:
            return response_result(probe, paid=False)
        challenge, charge = _select_challenge(probe)

        if spend_request is None:
            return _create_spend_request(
                link,
                challenge,
                charge,
                context=context,
                amount=amount,
                payment_method_id=payment_method_id,
                test=test,
                now=now,
            )

        if _is_expired(challenge, now):
            raise ChallengeExpiredError(
                "The merchant's challenge has already expired; nothing was paid. Run the "
                "same `mpp pay` again to fetch a fresh challenge."
            )
        _check_binding(spend_request, charge)
        credential = wire.build_credential(challenge, spend_request.shared_payment_token.id)
        header_name = challenge.credential_header
        try:
            answer = send(http, spec, extra=(header_name, credential))
        except httpx2.ConnectError:
            raise NetworkError(
                "Could not connect to the merchant to deliver the payment; the token was not "
                "sent, so the same command may be run again."
            ) from None
        except httpx2.HTTPError as exc:
            raise PaymentOutcomeUnknownError(
                f"The payment credential was sent but the merchant's answer was lost "
                f"({type(exc).__name__}). " + _outcome_advice(spend_request.id),
                spend_request_id=spend_request.id,
                spend_request_status=_status_now(link, spend_request.id),
            ) from None

    if answer.status_code >= 500:
        raise PaymentOutcomeUnknownError(
            f"The merchant answered {answer.status_code} after receiving the payment "
            "credential. " + _outcome_advice(spend_request.id),
            spend_request_id=spend_request.id,
            spend_request_status=_status_now(link, spend_request.id),
            status=answer.status_code,
            problem=wire.parse_problem(answer.content, answer.headers.get("content-type")),
        )
    result = response_result(answer, paid=200 <= answer.status_code < 300)
    result["spend_request_id"] = spend_request.id
    if result["paid"]:
        return result
    result["spend_request_status"] = _status_now(link, spend_request.id)
    if answer.status_code < 400:  # a redirect (not followed) or other non-final answer
        result["instruction"] = (
            f"The merchant answered {answer.status_code} after receiving the payment "
            "credential (redirects are never followed while carrying one). "
            + _outcome_advice(spend_request.id)
        )
    else:
        result["instruction"] = (
            f"The merchant did not accept the payment (HTTP {answer.status_code}). "
            + NEW_SPEND_REQUEST_ADVICE
        )
        result["new_spend_request_required"] = True
    return result


def _status_now(link: Any, spend_request_id: str) -> str | None:
    """The wallet's view after a paid attempt (it settles SPTs, so it knows the outcome)."""
    from linkpay.client.errors import LinkError

    try:
        return link.spend_requests.retrieve(spend_request_id).status
    except LinkError:
        return None


def _outcome_advice(spend_request_id: str) -> str:
    return (
        f"The payment may or may not have happened: check `spend-request retrieve "
        f"{spend_request_id}` (succeeded = paid) before anything else, and never pay again "
        "automatically with the same token."
    )


def _check_context(context: str | None) -> None:
    from linkpay.wire import MIN_CONTEXT_LENGTH

    if not context or len(context.strip()) < MIN_CONTEXT_LENGTH:
        raise InvalidInputError(
            f"--context is required without --spend-request-id: at least {MIN_CONTEXT_LENGTH} "
            "characters telling the person what is being bought and why."
        )


def _check_usable(spend_request: Any, now: datetime | None = None) -> None:
    sid = spend_request.id
    if spend_request.credential_type != "shared_payment_token":
        raise SpendRequestUnusableError(
            f"Spend request {sid} is a {spend_request.credential_type} request; `mpp pay` "
            "needs a shared_payment_token spend request. Run `mpp pay URL --context ...` "
            "without --spend-request-id to create one."
        )
    status = spend_request.status
    if status in ("succeeded", "failed"):
        raise SpendRequestUnusableError(
            f"Spend request {sid} is {status}: its shared payment token was already used. "
            + NEW_SPEND_REQUEST_ADVICE,
            status=status,
        )
    if status in ("created", "pending_approval"):
        raise SpendRequestUnusableError(
            f"Spend request {sid} is {status}, not approved yet. Wait with `spend-request "
            f"retrieve {sid} --interval 2`, then run this command again.",
            status=status,
        )
    if status != "approved":
        raise SpendRequestUnusableError(
            f"Spend request {sid} is {status} and cannot pay. " + NEW_SPEND_REQUEST_ADVICE,
            status=status,
        )
    token = spend_request.shared_payment_token
    if token is None:
        raise SpendRequestUnusableError(
            f"Spend request {sid} is approved but the wallet returned no shared payment token.",
            status=status,
        )
    if token.valid_until and _is_past(token.valid_until, now):
        raise SpendRequestUnusableError(
            f"The shared payment token of spend request {sid} expired at {token.valid_until}. "
            + NEW_SPEND_REQUEST_ADVICE,
            status=status,
        )


def _is_past(timestamp: str, now: datetime | None) -> bool:
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return False  # unknown format: the wallet still has the final word
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment <= (now or datetime.now(UTC))


def _check_binding(spend_request: Any, charge: StripeCharge) -> None:
    """The fresh challenge must fit inside what the person approved."""
    problems = []
    if charge.amount > spend_request.amount:
        problems.append(f"amount {charge.amount} is above the approved {spend_request.amount}")
    if charge.currency != spend_request.currency:
        problems.append(
            f"currency {charge.currency} differs from the approved {spend_request.currency}"
        )
    if charge.network_id != spend_request.network_id:
        problems.append(
            f"network id {charge.network_id} differs from the approved {spend_request.network_id}"
        )
    if problems:
        raise ChallengeMismatchError(
            sanitize_text(
                "The merchant's current challenge does not match the approved spend request "
                f"{spend_request.id}: " + "; ".join(problems) + ". The payment token was NOT "
                "sent. Create a new spend request for the current price if you still want it."
            ),
            spend_request_id=spend_request.id,
        )


def _select_challenge(probe: httpx2.Response) -> tuple[wire.Challenge, StripeCharge]:
    values = probe.headers.get_list("www-authenticate")
    if not any(v.strip() for v in values):
        x402 = detect_x402(probe.headers, probe.content)
        if x402 is not None:
            raise x402
        raise InvalidResponseError(
            "The merchant answered 402 Payment Required without a WWW-Authenticate challenge."
        )
    parsed = wire.parse_challenges(values)
    try:
        return select_stripe(parsed, DECODE_INTENTS)
    except Exception:
        x402 = detect_x402(probe.headers, None)
        stripe_offered = any(
            p.challenge is not None and p.challenge.method == "stripe" for p in parsed
        )
        if x402 is not None and not stripe_offered:
            raise x402 from None
        raise


def _create_spend_request(
    link: Any,
    challenge: wire.Challenge,
    charge: StripeCharge,
    *,
    context: str | None,
    amount: int | None,
    payment_method_id: str | None,
    test: bool,
    now: datetime | None,
) -> dict[str, Any]:
    from pydantic import ValidationError

    from linkpay.wire import SpendRequestCreate, describe_validation_errors

    if amount is not None and amount < charge.amount:
        raise InvalidInputError(
            f"--amount {amount} is below the {charge.amount} the merchant asks for; an "
            "approval for less could not pay this challenge."
        )
    try:
        body = SpendRequestCreate(
            payment_details=payment_method_id,
            credential_type="shared_payment_token",
            network_id=charge.network_id,
            amount=amount if amount is not None else charge.amount,
            currency=charge.currency,
            context=context or "",
            request_approval=True,
            test=test,
        )
    except ValidationError as exc:
        _param, message = describe_validation_errors(exc.errors(include_input=False))
        raise InvalidInputError(message) from None
    from linkpay.client.errors import LinkError

    resumed = False
    try:
        created = link.spend_requests.create(body).model_dump(mode="json", exclude_none=True)
    except LinkError as exc:
        # The same request is already waiting for the person (e.g. the agent lost the
        # first answer): resume it rather than fail or ask twice.
        duplicate = exc.extra.get("duplicate_spend_request")
        if exc.code != "spend_request_rate_limited" or not isinstance(duplicate, dict):
            raise
        created, resumed = duplicate, True
    out = {
        "approval_required": True,
        "spend_request": sanitize_deep(created),
        "challenge": sanitize_deep(_challenge_summary(challenge, charge, now=now)),
    }
    if resumed:
        out["resumed"] = True
    return out
