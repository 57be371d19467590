"""What an HTTP answer of the wallet means: its decoded JSON body, or the `LinkError` it
stands for. Shared by the httpx2 session (`_http.py`) and the one-GET client link-cli's
fast path uses (`plain_get.py`), so both map every answer the same way. Imports only
`json` and the errors.
"""

from __future__ import annotations

import json

from linkpay.client.errors import ApiError, InvalidResponse, LinkError, NotAuthenticated, NotFound

TYPE_CHECKING = False  # `typing` is a tenth of link-cli's fast retrieve
if TYPE_CHECKING:
    from typing import Any

_UNDECODABLE = object()


def decode_answer(status: int, content: bytes) -> Any:
    """The body of a 2xx answer as JSON (None when empty); raises the `LinkError` of any
    other answer, or of a 2xx body that is not JSON."""
    try:
        data = json.loads(content) if content else None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        data = _UNDECODABLE
    if 200 <= status < 300:
        if data is _UNDECODABLE:
            raise InvalidResponse(f"The wallet answered {status} with a body that is not JSON")
        return data
    raise error_from_response(status, data)


def error_from_response(status: int, data: Any) -> LinkError:
    """Map an error answer to a LinkError. API codes pass through; 401 and 404 get the
    CLI's own codes so agents can branch on them."""
    code: str | None = None
    message: str | None = None
    extra: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        body = dict(data["error"])
        code = str(body.pop("code", "") or "") or None
        message = str(body.pop("message", "") or "") or None
        body.pop("type", None)
        extra = {key: value for key, value in body.items() if value is not None}
    elif isinstance(data, dict) and isinstance(data.get("error"), str):  # OAuth style
        code = data["error"]
        message = data.get("error_description") or None
    if status == 401:
        return NotAuthenticated(
            message or "The wallet did not accept the credentials. Run `link-cli auth login`.",
            http_status=status,
        )
    if status == 404 and code in (None, "not_found", "resource_missing"):
        return NotFound(message or "Not found", http_status=status, **extra)
    for key, label in (("verification_url", "Verification URL"), ("support_url", "Support URL")):
        if isinstance(extra.get(key), str) and message and extra[key] not in message:
            message = f"{message.rstrip()} {label}: {extra[key]}"
    if code is None:
        return InvalidResponse(
            f"The wallet answered HTTP {status} without an error body", http_status=status
        )
    return ApiError(message or code, code=code, http_status=status, **extra)
