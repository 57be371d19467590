"""Retries for issuer calls: stamina's backoff with jitter on 429, 5xx and connection
errors, never on other 4xx. After the last attempt the failure becomes
`IssuerUnavailable` (or `IssuerRejected` for a 4xx) with a message for the person.

The SDKs' own retry loops are switched off (`max_network_retries=0`, `max_retries=0`)
so that one policy, here, decides. Idempotency keys make the repeats safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import stamina

from linkpay.wallet.issuing.base import IssuerRejected, IssuerUnavailable

T = TypeVar("T")

ATTEMPTS = 3
TIMEOUT_SECONDS = 8.0


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an SDK error (`http_status` at Stripe, `status_code` at
    Lithic); None for connection errors and timeouts."""
    for name in ("http_status", "status_code"):
        value = getattr(error, name, None)
        if isinstance(value, int):
            return value
    return None


def is_transient(error: BaseException) -> bool:
    status = status_of(error)
    if status is None:
        return _is_connection_error(error)
    return status == 429 or status >= 500


def _is_connection_error(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"APIConnectionError", "APITimeoutError", "TimeoutError", "OSError"})


def call_with_retries(provider: str, action: str, call: Callable[[], T]) -> T:
    """Run `call`, retrying transient failures; translate the final failure."""

    retrying = stamina.retry(
        on=is_transient, attempts=ATTEMPTS, timeout=TIMEOUT_SECONDS, wait_initial=0.2, wait_max=2.0
    )
    try:
        return retrying(call)()
    except Exception as error:
        if isinstance(error, IssuerRejected | IssuerUnavailable):
            raise
        status = status_of(error)
        if is_transient(error):
            raise IssuerUnavailable(
                f"{provider} did not answer ({action}: "
                f"{'HTTP ' + str(status) if status else 'no connection'}); "
                "nothing was issued, try again in a minute"
            ) from None
        if status is not None:
            detail = getattr(error, "user_message", None) or getattr(error, "message", None)
            raise IssuerRejected(
                f"{provider} refused to {action} (HTTP {status}): {str(detail or '')[:200]}"
            ) from None
        raise
