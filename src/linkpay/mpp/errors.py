"""Client-side MPP errors: a code an agent can branch on and a message a person can read."""

from __future__ import annotations

from typing import Any

from linkpay.client.errors import LinkError

NEW_SPEND_REQUEST_ADVICE = (
    "A shared payment token is single-use: create a new spend request "
    "(run `mpp pay URL --context ...` without --spend-request-id) to try again."
)


class MppError(LinkError):
    """A failure of `mpp decode` / `mpp pay` with a stable `code` (cli.md error codes).

    A `LinkError`, so the CLI and MCP layers render it as `{code, message, **extra}`."""

    code = "MPP_ERROR"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message, code=code, **extra)


class ChallengeParseError(MppError):
    """A Payment challenge (or the whole WWW-Authenticate value) could not be parsed."""

    code = "INVALID_CHALLENGE"


class NoStripeChallengeError(MppError):
    code = "NO_STRIPE_CHALLENGE"


class InvalidStripeRequestError(MppError):
    code = "INVALID_CHALLENGE"


class X402NotSupportedError(MppError):
    """The merchant speaks x402 (crypto-only); our wallet holds cards and SPTs."""

    code = "UNSUPPORTED_PROTOCOL"


class InvalidResponseError(MppError):
    code = "INVALID_RESPONSE"


class InvalidInputError(MppError):
    code = "INVALID_INPUT"


class ChallengeExpiredError(MppError):
    code = "CHALLENGE_EXPIRED"


class ChallengeMismatchError(MppError):
    """The merchant's fresh challenge asks for something the person did not approve."""

    code = "CHALLENGE_MISMATCH"


class SpendRequestUnusableError(MppError):
    """The spend request cannot pay: wrong type, not approved, already used, no token."""

    code = "SPEND_REQUEST_NOT_USABLE"


class PaymentOutcomeUnknownError(MppError):
    """The credential was sent but no trustworthy answer came back. Never retried."""

    code = "PAYMENT_OUTCOME_UNKNOWN"


class NetworkError(MppError):
    code = "NETWORK_ERROR"
