"""RFC 8628 device login responses."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class DeviceCodeResponse(BaseModel):
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class TokenResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str | None = None
    authorization_details: list[dict[str, Any]] | None = None


class OAuthError(BaseModel):
    """RFC 6749 §5.2 error: authorization_pending, slow_down, expired_token,
    access_denied, invalid_grant, invalid_request, invalid_client, unsupported_grant_type."""

    error: str
    error_description: str | None = None
