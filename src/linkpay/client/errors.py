"""Typed errors of the SDK. Every failure a caller can meet is a `LinkError` with a
stable `code` (the CLI prints `{code, message}` from it), so nobody has to catch
httpx or pydantic exceptions.

Codes are the CLI's upper-case codes for what the client itself detects
(`NOT_AUTHENTICATED`, `NOT_FOUND`, `NETWORK_ERROR`, `INVALID_RESPONSE`,
`POLLING_TIMEOUT`), and the API's own codes passed through unchanged otherwise
(`invalid_request`, `spend_request_rate_limited`, `invalid_state`, OAuth errors such as
`access_denied`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any


class LinkError(Exception):
    """Base class. `extra` holds additional JSON-able fields for the error object
    (e.g. `param`, `retry_after`, `duplicate_spend_request`)."""

    code = "LINK_ERROR"

    def __init__(
        self, message: str, *, code: str | None = None, http_status: int | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.http_status = http_status
        self.extra = {key: value for key, value in extra.items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class NotAuthenticated(LinkError):
    code = "NOT_AUTHENTICATED"


class NotFound(LinkError):
    code = "NOT_FOUND"


class NetworkError(LinkError):
    code = "NETWORK_ERROR"


class InvalidResponse(LinkError):
    code = "INVALID_RESPONSE"


class PollingTimeout(LinkError):
    """Time or attempts ran out first. Retrying (polling again) is safe: `retryable`.
    `last` is the last object seen, when there was one."""

    code = "POLLING_TIMEOUT"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message, retryable=True, **extra)
        self.last: Any = None


class ApiError(LinkError):
    """A 4xx/5xx answer with the API's own error code (passed through)."""

    code = "API_ERROR"


class DeviceLoginError(LinkError):
    """The device login ended without tokens: `access_denied` or `expired_token`."""

    code = "access_denied"
