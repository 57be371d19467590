"""RFC 8628 endpoints on the auth base URL: /device/code, /device/token, /device/revoke.

Form-encoded in, JSON out; errors are RFC 6749 bodies (`{"error": "slow_down"}`), with
`Cache-Control: no-store` on every answer that carries or refuses a token.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from linkpay.text import has_control_characters
from linkpay.wallet.auth import device as device_grants
from linkpay.wallet.auth import tokens
from linkpay.wallet.deps import DbDep, NotifierDep, SettingsDep, UnitRoute
from linkpay.wallet.errors import OAUTH_ERROR_RESPONSES, OAuthException, oauth_error_response
from linkpay.wallet.spend.after_commit import call_after_commit
from linkpay.wire import DeviceCodeResponse, TokenResponse

router = APIRouter(tags=["device login"], responses=OAUTH_ERROR_RESPONSES, route_class=UnitRoute)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_MAX_TEXT = 300


class RevokeResponse(BaseModel):
    revoked: bool


async def _form(request: Request) -> FormData:
    """The whole form (authorization_details come as bracketed keys); Starlette caches
    it, so the declared Form fields parse the same body once."""
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]


def _clean(value: str | None, name: str, limit: int = _MAX_TEXT) -> str | None:
    """Text a person will read on the approval page: no control characters (no ANSI
    escapes, no NUL), trimmed, bounded."""
    if value is None:
        return None
    if has_control_characters(value):
        raise OAuthException("invalid_request", f"{name}: control characters are not allowed")
    value = value.strip()
    if len(value) > limit:
        raise OAuthException("invalid_request", f"{name}: at most {limit} characters")
    return value or None


def _authorization_details(form: Any) -> list[dict[str, Any]] | None:
    """Collect `authorization_details[0][type]=…` style bracket fields (or one JSON
    `authorization_details` field) into a list of objects."""
    raw_json = form.get("authorization_details")
    if isinstance(raw_json, str) and raw_json.strip():
        try:
            parsed = json.loads(raw_json)
        except ValueError as exc:
            raise OAuthException("invalid_request", "authorization_details: not JSON") from exc
        if isinstance(parsed, dict):
            parsed = [parsed]
        if not isinstance(parsed, list) or not all(isinstance(p, dict) for p in parsed):
            raise OAuthException("invalid_request", "authorization_details: expected objects")
        return parsed
    items: dict[int, dict[str, Any]] = {}
    open_index = -1  # the object `authorization_details[][…]` keys currently fill
    for key, value in form.multi_items():
        match = re.fullmatch(r"authorization_details\[(\d*)\]((?:\[[^\]]+\])+)", key)
        if not match or not isinstance(value, str):
            continue
        path = re.findall(r"\[([^\]]+)\]", match.group(2))
        if match.group(1):
            index = int(match.group(1))
        else:  # `[]`: a repeated key starts the next object
            if open_index < 0 or _has_path(items.get(open_index, {}), path):
                open_index = max(items, default=-1) + 1
            index = open_index
        if index >= 50:
            raise OAuthException("invalid_request", "authorization_details: too many items")
        node = items.setdefault(index, {})
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise OAuthException("invalid_request", f"authorization_details: bad key {key}")
            node = child
        if isinstance(node.get(path[-1]), dict):
            raise OAuthException("invalid_request", f"authorization_details: bad key {key}")
        node[path[-1]] = value
    return [items[i] for i in sorted(items)] or None


def _has_path(obj: dict[str, Any], path: list[str]) -> bool:
    node: Any = obj
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@router.post(
    "/device/code",
    response_model=DeviceCodeResponse,
    summary="Start a device login (RFC 8628 §3.1)",
)
def device_code(
    form: FormDep,
    session: DbDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    client_id: Annotated[str, Form(min_length=1, max_length=200)],
    scope: Annotated[str | None, Form(max_length=1000)] = None,
    connection_label: Annotated[str | None, Form(max_length=_MAX_TEXT)] = None,
    client_hint: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    details = _authorization_details(form)
    try:
        granted_scope = tokens.normalize_scope(scope)
    except ValueError as exc:
        raise OAuthException("invalid_scope", str(exc)) from exc

    client_name = _clean(client_id, "client_id", 200)
    if not client_name:
        raise OAuthException("invalid_request", "client_id is required")

    started = device_grants.start_device_grant(
        session,
        settings=settings,
        client_id=client_name,
        scope=granted_scope,
        connection_label=_clean(connection_label, "connection_label"),
        client_hint=_clean(client_hint, "client_hint", 200),
        authorization_details=details,
    )
    verification_uri = f"{settings.public_url}/device"
    # The notification links to the page without the phrase: the person must compare
    # the phrase their agent shows (device-code phishing defence). It goes out once the
    # grant is committed; a failing channel never blocks a login (after_commit logs).
    label = started.grant.connection_label
    call_after_commit(
        session,
        lambda: notifier.device_login_started(
            connection_label=label, verification_url=verification_uri
        ),
    )
    body = DeviceCodeResponse(
        device_code=started.device_code,
        user_code=started.user_code,
        verification_uri=verification_uri,
        verification_uri_complete=f"{verification_uri}?code={quote(started.user_code)}",
        expires_in=settings.device_code_ttl_seconds,
        interval=settings.device_poll_interval,
    )
    return Response(body.model_dump_json(), media_type="application/json", headers=_NO_STORE)


@router.post(
    "/device/token",
    response_model=TokenResponse,
    summary="Poll for, or refresh, an access token (RFC 8628 §3.4, RFC 6749 §6)",
)
def device_token(
    session: DbDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form(max_length=200)],
    client_id: Annotated[str, Form(min_length=1, max_length=200)],
    device_code: Annotated[str | None, Form(max_length=200)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    # Refusals are *returned*, not raised: the transaction must commit them (the poll
    # time and interval stick; a reused refresh token revokes its family).
    if grant_type == device_grants.DEVICE_CODE_GRANT_TYPE:
        if not device_code:
            raise OAuthException("invalid_request", "device_code is required")
        outcome = device_grants.poll_device_grant(
            session, settings=settings, device_code=device_code, client_id=client_id
        )
        issued = outcome.tokens
        if issued is None:
            return oauth_error_response(outcome.error or "invalid_grant", outcome.description)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise OAuthException("invalid_request", "refresh_token is required")
        try:
            issued = tokens.rotate_refresh_token(
                session,
                refresh_token=refresh_token,
                client_id=client_id,
                access_ttl=settings.access_token_ttl_seconds,
                refresh_ttl=settings.refresh_token_ttl_seconds,
            )
        except tokens.RefreshRefused as exc:
            return oauth_error_response("invalid_grant", exc.reason)
    else:
        raise OAuthException("unsupported_grant_type", f"grant_type {grant_type!r}")
    assert issued is not None
    body = TokenResponse(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        token_type="Bearer",
        expires_in=issued.expires_in,
        scope=issued.row.scope,
        authorization_details=issued.row.authorization_details,
    )
    return Response(
        body.model_dump_json(exclude_none=True),
        media_type="application/json",
        headers=_NO_STORE,
    )


@router.post(
    "/device/revoke",
    response_model=RevokeResponse,
    summary="Revoke a token and its login (RFC 7009)",
)
def device_revoke(
    session: DbDep,
    token: Annotated[str, Form(max_length=200)],
    client_id: Annotated[str | None, Form(max_length=200)] = None,
    token_type_hint: Annotated[str | None, Form(max_length=50)] = None,
) -> RevokeResponse:
    revoked = tokens.revoke_token(session, token)
    return RevokeResponse(revoked=revoked)
