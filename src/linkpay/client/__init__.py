"""The link-cli SDK: a typed client for the agent API (../shared/spec/agent-api.md).

`Link` talks to the wallet; every failure is a `LinkError` with a `code`."""

from linkpay.client.errors import (
    ApiError,
    DeviceLoginError,
    InvalidResponse,
    LinkError,
    NetworkError,
    NotAuthenticated,
    NotFound,
    PollingTimeout,
)
from linkpay.client.link import Link
from linkpay.client.tokens import Tokens, TokenStore

__all__ = [
    "ApiError",
    "DeviceLoginError",
    "InvalidResponse",
    "Link",
    "LinkError",
    "NetworkError",
    "NotAuthenticated",
    "NotFound",
    "PollingTimeout",
    "TokenStore",
    "Tokens",
]
