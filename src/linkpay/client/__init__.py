"""The link-cli SDK: a typed client for the agent API (docs/wire-api.md).

`Link` talks to the wallet; every failure is a `LinkError` with a `code`. Names load
lazily so that `linkpay.client.errors` (used by every CLI run) does not pull in httpx2.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "ApiError": "linkpay.client.errors",
    "DeviceLoginError": "linkpay.client.errors",
    "InvalidResponse": "linkpay.client.errors",
    "LinkError": "linkpay.client.errors",
    "NetworkError": "linkpay.client.errors",
    "NotAuthenticated": "linkpay.client.errors",
    "NotFound": "linkpay.client.errors",
    "PollingTimeout": "linkpay.client.errors",
    "Link": "linkpay.client.link",
    "TokenStore": "linkpay.client.tokens",
    "Tokens": "linkpay.client.tokens",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'linkpay.client' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
