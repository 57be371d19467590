"""The SDK's HTTP session: base URLs, bearer auth with refresh (when expired and once
on a 401), Idempotency-Key on every POST, `--verbose` logging (method, URL, status, time;
never headers or bodies), and translation of every failure into a `LinkError` (answers
through `answer.py`). The one other HTTP client is `plain_get.py`, link-cli's fast
retrieve, which hands everything but a plain GET back to this session.
"""

import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO, TypeVar
from urllib.parse import urlencode

from linkpay.client.answer import decode_answer
from linkpay.client.errors import ApiError, InvalidResponse, NetworkError, NotAuthenticated
from linkpay.client.tokens import Tokens, TokenStore

if TYPE_CHECKING:
    import httpx2
    from pydantic import BaseModel

    Model = TypeVar("Model", bound=BaseModel)
else:
    Model = TypeVar("Model")

Params = dict[str, Any] | list[tuple[str, Any]]
DEFAULT_BASE_URL = "http://127.0.0.1:8765"
CLIENT_ID = "link-cli"
_NOT_LOGGED_IN = "Not logged in. Run `link-cli auth login` first."


class HttpSession:
    def __init__(
        self,
        *,
        api_base_url: str | None = None,
        auth_base_url: str | None = None,
        store: TokenStore,
        proxy: str | None = None,
        timeout: float = 30.0,
        verbose: bool | TextIO = False,
        transport: "httpx2.BaseTransport | None" = None,
        client_id: str = CLIENT_ID,
        user_agent: str | None = None,
    ) -> None:
        self.api_base_url = (
            api_base_url or os.environ.get("LINK_API_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.auth_base_url = (
            auth_base_url or os.environ.get("LINK_AUTH_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.store = store
        self.client_id = client_id
        self._log: TextIO | None = None
        if verbose is True:
            self._log = sys.stderr
        elif verbose is not False:
            self._log = verbose
        self._proxy = proxy or os.environ.get("LINK_HTTP_PROXY") or None
        self._transport = transport
        self._user_agent = user_agent
        self._client_instance: httpx2.Client | None = None
        self._timeout = timeout
        self._tokens: Tokens | None = None
        self._tokens_loaded = False
        self.on_tokens_refreshed: Callable[[Tokens], None] | None = None

    @property
    def _client(self) -> "httpx2.Client":
        """The HTTP client, made on first use: a run that fails before any request
        (not logged in, bad input) never imports httpx2."""
        if self._client_instance is None:
            import httpx2

            from linkpay import __version__

            uses_tls = any(
                (url or "").lower().startswith("https:")
                for url in (self.api_base_url, self.auth_base_url, self._proxy)
            )
            self._client_instance = httpx2.Client(
                # Building a verifying SSL context costs ~60 ms per start; when every URL
                # we may talk to is plain http (the local wallet) there is no TLS to verify.
                verify=True if uses_tls or self._transport is not None else False,
                timeout=self._timeout,
                proxy=self._proxy,
                transport=self._transport,
                trust_env=False,  # only LINK_HTTP_PROXY routes traffic; predictable for agents
                follow_redirects=False,
                headers={"User-Agent": self._user_agent or f"link-cli/{__version__}"},
            )
        return self._client_instance

    def close(self) -> None:
        if self._client_instance is not None:
            self._client_instance.close()
            self._client_instance = None

    # -- tokens -------------------------------------------------------------------

    @property
    def tokens(self) -> Tokens | None:
        if not self._tokens_loaded:
            self._tokens = self.store.load()
            self._tokens_loaded = True
        return self._tokens

    def set_tokens(self, tokens: Tokens | None) -> None:
        self._tokens = tokens
        self._tokens_loaded = True

    def forget_tokens(self) -> None:
        """Read the tokens from the store again on next use (a long-lived client, such
        as the MCP server's, sees logins and logouts made elsewhere)."""
        self._tokens_loaded = False

    def refresh(self) -> Tokens:
        """Trade the refresh token for a new pair (the old refresh token is rotated)."""
        with self.store.refresh_lock():
            return self._refresh_locked(stale_access_token=(self.tokens or Tokens("")).access_token)

    def _refresh_locked(self, *, stale_access_token: str) -> Tokens:
        from linkpay.wire import TokenResponse

        if not self.store.from_env:
            on_disk = self.store.load()
            if on_disk is not None and on_disk.access_token != stale_access_token:
                # Another process refreshed while we waited for the lock: use its tokens.
                self.set_tokens(on_disk)
                return on_disk
        current = self.tokens
        if current is None:
            raise NotAuthenticated(_NOT_LOGGED_IN)
        if not current.refresh_token or not self.store.refresh_enabled:
            raise NotAuthenticated("The access token has expired. Run `link-cli auth login` again.")
        try:
            data = self.request(
                "POST",
                "/device/token",
                base="auth",
                form={
                    "grant_type": "refresh_token",
                    "refresh_token": current.refresh_token,
                    "client_id": self.client_id,
                },
                authenticated=False,
            )
        except (ApiError, NotAuthenticated) as exc:
            raise NotAuthenticated(
                f"The session could not be refreshed ({exc.code}). Run `link-cli auth login` again."
            ) from None
        response = parse(TokenResponse, data)
        tokens = Tokens.from_token_response(response, client_name=current.client_name)
        tokens.extra = dict(current.extra)
        self.store.save(tokens)
        self.set_tokens(tokens)
        return tokens

    # -- requests -----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        base: str = "api",
        params: Params | None = None,
        json_body: Any = None,
        form: Params | None = None,
        authenticated: bool = True,
        timeout: float | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body (raises `LinkError`)."""
        url = (self.api_base_url if base == "api" else self.auth_base_url) + path
        headers: dict[str, str] = {"Accept": "application/json"}
        if method == "POST" and base == "api":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        retried = False
        while True:
            if authenticated:
                tokens = self.tokens
                if tokens is None:
                    raise NotAuthenticated(_NOT_LOGGED_IN)
                if tokens.expired() and tokens.refresh_token and self.store.refresh_enabled:
                    tokens = self.refresh()
                headers["Authorization"] = f"Bearer {tokens.access_token}"
            response = self._send(method, url, params, json_body, form, headers, timeout)
            if response.status_code == 401 and authenticated and not retried:
                current = self.tokens
                if current and current.refresh_token and self.store.refresh_enabled:
                    retried = True
                    self.refresh()
                    continue
            return self._decode(response)

    def _send(
        self,
        method: str,
        url: str,
        params: Params | None,
        json_body: Any,
        form: Params | None,
        headers: dict[str, str],
        timeout: float | None,
    ) -> "httpx2.Response":
        import httpx2

        client = self._client  # outside the try: a bad proxy setting is no network error
        started = time.monotonic()
        try:
            content = None
            if form is not None:
                content = urlencode(list(form.items()) if isinstance(form, dict) else form)
                headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
            response = client.request(
                method,
                url,
                params=params,
                json=json_body,
                content=content,
                headers=headers,
                timeout=timeout if timeout is not None else self._timeout,
            )
        except httpx2.TimeoutException:
            self._trace(method, url, "timeout", started)
            raise NetworkError(f"The wallet at {_origin(url)} did not answer in time") from None
        except (httpx2.TransportError, httpx2.InvalidURL, httpx2.UnsupportedProtocol, OSError):
            self._trace(method, url, "unreachable", started)
            raise NetworkError(
                f"Could not reach the wallet at {_origin(url)} "
                "(is it running? check LINK_API_BASE_URL / LINK_AUTH_BASE_URL)"
            ) from None
        self._trace(method, url, str(response.status_code), started)
        return response

    def _trace(self, method: str, url: str, outcome: str, started: float) -> None:
        if self._log is not None:
            elapsed = (time.monotonic() - started) * 1000
            print(f"[http] {method} {url} -> {outcome} ({elapsed:.0f} ms)", file=self._log)

    def _decode(self, response: "httpx2.Response") -> Any:
        return decode_answer(response.status_code, response.content)


def parse(model: type[Model], data: Any) -> Model:
    """Validate a response body against a wire model; a mismatch is INVALID_RESPONSE."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0].get("loc", ())) or "body"
        raise InvalidResponse(
            f"The wallet's answer does not match {model.__name__} (at {where})"
        ) from None


def _origin(url: str) -> str:
    import httpx2

    try:
        parsed = httpx2.URL(url)
        return f"{parsed.scheme}://{parsed.netloc.decode()}"
    except Exception:  # pragma: no cover - defensive; URL came from our own settings
        return "the configured URL"
