"""`Link`: the SDK's entry point.

from linkpay.client import Link
link = Link()                                   # env + token file, like link-cli
request = link.spend_requests.retrieve("lsrq_…", wait=30)
"""

import os
from typing import TYPE_CHECKING, TextIO

from linkpay.client._http import CLIENT_ID, HttpSession
from linkpay.client.device import DeviceLogin
from linkpay.client.resources import (
    Balances,
    PaymentMethods,
    Reports,
    ShippingAddresses,
    Sources,
    SpendRequests,
    Transactions,
    UserInfoResource,
)
from linkpay.client.token_file import auth_file_from_env
from linkpay.client.tokens import Tokens, TokenStore

if TYPE_CHECKING:
    import httpx2

    from linkpay.wire import TokenResponse


class Link:
    def __init__(
        self,
        *,
        api_base_url: str | None = None,
        auth_base_url: str | None = None,
        auth_file: str | os.PathLike[str] | None = None,
        access_token: str | None = None,
        proxy: str | None = None,
        timeout: float = 30.0,
        verbose: bool | TextIO = False,
        transport: "httpx2.BaseTransport | None" = None,
        client_id: str = CLIENT_ID,
    ) -> None:
        self.store = TokenStore(auth_file_from_env(auth_file))
        self.http = HttpSession(
            api_base_url=api_base_url,
            auth_base_url=auth_base_url,
            store=self.store,
            proxy=proxy,
            timeout=timeout,
            verbose=verbose,
            transport=transport,
            client_id=client_id,
        )
        if access_token:
            self.http.set_tokens(Tokens(access_token=access_token))
        self.device = DeviceLogin(self.http)
        self.spend_requests = SpendRequests(self.http)
        self.payment_methods = PaymentMethods(self.http)
        self.shipping_addresses = ShippingAddresses(self.http)
        self.user_info = UserInfoResource(self.http)
        self.transactions = Transactions(self.http)
        self.reports = Reports(self.http)
        self.sources = Sources(self.http)
        self.balances = Balances(self.http)

    @property
    def tokens(self) -> Tokens | None:
        return self.http.tokens

    def save_login(
        self, token_response: "TokenResponse", *, client_name: str | None = None
    ) -> Tokens:
        tokens = Tokens.from_token_response(token_response, client_name=client_name)
        self.store.save(tokens)
        self.http.set_tokens(tokens)
        return tokens

    def logout(self) -> bool:
        """Revoke the refresh (or access) token at the wallet, then forget it locally.
        Returns whether the wallet confirmed the revocation."""
        from linkpay.client.errors import LinkError

        tokens = self.http.tokens
        revoked = False
        if tokens is not None:
            try:
                self.device.revoke(tokens.refresh_token or tokens.access_token)
                if tokens.refresh_token:
                    self.device.revoke(tokens.access_token)
                revoked = True
            except LinkError:
                revoked = False
        self.store.delete()
        self.http.set_tokens(None)
        return revoked

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
