"""Device login (RFC 8628) from the agent's side: ask for a code, poll for the token
honouring `interval` and `slow_down`, refresh, revoke."""

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from linkpay.client._http import HttpSession, parse
from linkpay.client.errors import ApiError, DeviceLoginError, PollingTimeout

if TYPE_CHECKING:
    from linkpay.wire import DeviceCodeResponse, TokenResponse

DEFAULT_SCOPE = "userinfo:read payment_methods.agentic"
DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: add 5 seconds, for good
PENDING = "authorization_pending"


def connection_label(client_name: str) -> str:
    """What the person sees in their wallet: "NAME on HOSTNAME"."""
    return f"{client_name} on {socket.gethostname()}"


def _bracket_encode(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _bracket_encode(f"{prefix}[{key}]", item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _bracket_encode(f"{prefix}[{index}]", item, out)
    elif value is not None:
        out.append((prefix, str(value).lower() if isinstance(value, bool) else str(value)))


class DeviceLogin:
    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def start(
        self,
        *,
        client_name: str = "link-cli",
        scope: str = DEFAULT_SCOPE,
        authorization_details: list[dict[str, Any]] | None = None,
    ) -> "DeviceCodeResponse":
        from linkpay.wire import DeviceCodeResponse

        form: list[tuple[str, str]] = [
            ("client_id", self._http.client_id),
            ("scope", scope),
            ("connection_label", connection_label(client_name)),
            ("client_hint", client_name),
        ]
        for index, detail in enumerate(authorization_details or []):
            _bracket_encode(f"authorization_details[{index}]", detail, form)
        data = self._http.request(
            "POST", "/device/code", base="auth", form=form, authenticated=False
        )
        return parse(DeviceCodeResponse, data)

    def exchange(self, device_code: str) -> "TokenResponse | str":
        """One token request. Returns a TokenResponse, or the string
        "authorization_pending" / "slow_down"; raises DeviceLoginError when the
        login was denied or expired."""
        from linkpay.wire import TokenResponse

        try:
            data = self._http.request(
                "POST",
                "/device/token",
                base="auth",
                form={
                    "grant_type": DEVICE_GRANT_TYPE,
                    "device_code": device_code,
                    "client_id": self._http.client_id,
                },
                authenticated=False,
            )
        except ApiError as exc:
            if exc.code in (PENDING, "slow_down"):
                return exc.code
            if exc.code == "access_denied":
                raise DeviceLoginError(
                    "The person denied this login.", code="access_denied"
                ) from None
            if exc.code in ("expired_token", "invalid_grant"):
                raise DeviceLoginError(
                    "The login code expired before it was approved. "
                    "Run `link-cli auth login` again.",
                    code="expired_token",
                ) from None
            raise
        return parse(TokenResponse, data)

    def poll(
        self,
        device_code: str,
        *,
        interval: float,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int | None = None,
    ) -> "TokenResponse":
        """Poll until approved; the first request goes out at once (the person may
        already have approved), later ones `interval` apart (+5 s per slow_down)."""
        deadline = time.monotonic() + timeout
        attempts = 0
        while True:
            outcome = self.exchange(device_code)
            attempts += 1
            if not isinstance(outcome, str):
                return outcome
            if outcome == "slow_down":
                interval += SLOW_DOWN_STEP
            remaining = deadline - time.monotonic()
            if max_attempts is not None and attempts >= max_attempts:
                raise PollingTimeout(
                    f"The login was not approved after {attempts} attempt"
                    f"{'s' if attempts != 1 else ''}."
                )
            if remaining <= 0:
                raise PollingTimeout(
                    f"The login was not approved within {timeout:g} seconds.",
                )
            sleep(min(interval, remaining))

    def revoke(self, token: str) -> None:
        self._http.request(
            "POST",
            "/device/revoke",
            base="auth",
            form={"client_id": self._http.client_id, "token": token},
            authenticated=False,
        )
