"""Resources of the agent API, named after its objects (stripe-python style). Each
method is one HTTP call and returns wire models; `SpendRequests.wait_for` is the one
loop (long-poll with an interval fallback)."""

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from linkpay.client._http import HttpSession, Params, parse
from linkpay.client.errors import PollingTimeout

if TYPE_CHECKING:  # the wire models load when a call is made, not at import
    from linkpay.wire import (
        ApprovalLink,
        BalanceList,
        PaymentDetail,
        ShippingAddress,
        SourceList,
        SpendRequest,
        SpendRequestCheck,
        TransactionList,
        UserInfo,
    )

LONG_POLL_MAX_SECONDS = 30


def _path_id(value: str) -> str:
    return quote(value, safe="")


def _body(model_or_dict: Any) -> Any:
    if hasattr(model_or_dict, "model_dump"):
        return model_or_dict.model_dump(mode="json", exclude_none=True)
    return model_or_dict


class SpendRequests:
    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def create(self, body: Any, *, idempotency_key: str | None = None) -> "SpendRequest":
        from linkpay.wire import SpendRequest

        data = self._http.request(
            "POST", "/spend_requests", json_body=_body(body), idempotency_key=idempotency_key
        )
        return parse(SpendRequest, data)

    def check(self, body: Any) -> "SpendRequestCheck":
        """Dry run: what create would decide, with the remaining limits and budgets."""
        from linkpay.wire import SpendRequestCheck

        data = self._http.request("POST", "/spend_requests/check", json_body=_body(body))
        return parse(SpendRequestCheck, data)

    def create_delegated(self, body: Any, *, idempotency_key: str | None = None) -> "SpendRequest":
        """Create already approved (needs the delegated-approval scope)."""
        from linkpay.wire import SpendRequest

        data = self._http.request(
            "POST",
            "/spend_requests/create_delegated",
            json_body=_body(body),
            idempotency_key=idempotency_key,
        )
        return parse(SpendRequest, data)

    def update(self, spend_request_id: str, body: Any) -> "SpendRequest":
        from linkpay.wire import SpendRequest

        data = self._http.request(
            "POST", f"/spend_requests/{_path_id(spend_request_id)}", json_body=_body(body)
        )
        return parse(SpendRequest, data)

    def retrieve(
        self,
        spend_request_id: str,
        *,
        include: Iterable[str] = (),
        wait: int | None = None,
        last_status: str | None = None,
    ) -> "SpendRequest":
        """One fetch. `wait=N` asks the wallet to hold the answer until the status
        changes (at most N seconds, our long-poll extension); `last_status` is the
        status this client saw last, so a change made since then answers at once."""
        from linkpay.wire import SpendRequest

        data = self.fetch(spend_request_id, include=include, wait=wait, last_status=last_status)
        return parse(SpendRequest, data)

    def fetch(
        self,
        spend_request_id: str,
        *,
        include: Iterable[str] = (),
        wait: int | None = None,
        last_status: str | None = None,
    ) -> Any:
        """`retrieve` without parsing: the decoded JSON answer (link-cli's fast path
        checks it without pydantic)."""
        params: list[tuple[str, Any]] = [("include", item) for item in include]
        timeout = None
        if wait:
            wait = max(1, min(int(wait), LONG_POLL_MAX_SECONDS))
            params.append(("wait", wait))
            if last_status:
                params.append(("last_status", last_status))
            timeout = wait + 15.0
        return self._http.request(
            "GET",
            f"/spend_requests/{_path_id(spend_request_id)}",
            params=params or None,
            timeout=timeout,
        )

    def list(self, *, include_history: bool = False) -> "list[SpendRequest]":
        from linkpay.wire import SpendRequestList

        params = {"include_history": "true"} if include_history else None
        data = self._http.request("GET", "/spend_requests", params=params)
        return parse(SpendRequestList, data).data

    def cancel(self, spend_request_id: str) -> "SpendRequest":
        from linkpay.wire import SpendRequest

        data = self._http.request("POST", f"/spend_requests/{_path_id(spend_request_id)}/cancel")
        return parse(SpendRequest, data)

    def request_approval(self, spend_request_id: str) -> "ApprovalLink":
        from linkpay.wire import ApprovalLink

        data = self._http.request(
            "POST", f"/spend_requests/{_path_id(spend_request_id)}/request_approval"
        )
        return parse(ApprovalLink, data)

    def wait_for(
        self,
        spend_request_id: str,
        *,
        interval: float = 2.0,
        max_attempts: int | None = None,
        timeout: float = 600.0,
        include: Iterable[str] = (),
        long_poll: bool = True,
        on_change: "Callable[[SpendRequest], None] | None" = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> "SpendRequest":
        """Fetch until a terminal status (wire.is_poll_terminal). Each fetch long-polls
        for what is left of the timeout (≤ 30 s); when the wallet answers at once with
        an unchanged status (no long-poll support), wait `interval` before the next
        fetch. `on_change` sees the first object and every status change.
        Raises PollingTimeout (with `id` and `status`) when time or attempts run out."""
        from linkpay.wire import is_poll_terminal

        include = tuple(include)
        budget = timeout
        if max_attempts is not None:
            # N attempts `interval` apart is the budget the caller asked for; a long-poll
            # must not stretch it to N x 30 s.
            budget = min(timeout, interval * max_attempts)
        deadline = time.monotonic() + budget
        attempts = 0
        last_status: str | None = None
        while True:
            remaining = deadline - time.monotonic()
            # `last_status` lets the wallet answer at once for a change made between
            # two fetches; the bound keeps a wallet that ignores it from costing more
            # than one such wait.
            longest = min(LONG_POLL_MAX_SECONDS, max(10.0, interval * 5), remaining)
            wait = int(longest) if long_poll and attempts else None
            started = time.monotonic()
            current = self.retrieve(
                spend_request_id,
                include=include,
                wait=wait if wait and wait >= 1 else None,
                last_status=last_status,
            )
            attempts += 1
            changed = current.status != last_status
            if changed:
                last_status = current.status
                if on_change is not None:
                    on_change(current)
            if is_poll_terminal(current):
                return current
            out_of_attempts = max_attempts is not None and attempts >= max_attempts
            if out_of_attempts or time.monotonic() >= deadline:
                error = PollingTimeout(
                    f"Spend request {spend_request_id} is still {current.status} after "
                    f"{attempts} attempt{'s' if attempts != 1 else ''}"
                    f" ({time.monotonic() - (deadline - budget):.0f} s).",
                    id=spend_request_id,
                    status=current.status,
                )
                error.last = current
                raise error
            held = time.monotonic() - started
            if not changed and (not wait or held < wait / 2):
                sleep(max(0.0, min(interval, deadline - time.monotonic())))


class PaymentMethods:
    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self) -> "list[PaymentDetail]":
        from linkpay.wire import PaymentDetailsList

        return parse(
            PaymentDetailsList, self._http.request("GET", "/payment-details")
        ).payment_details


class ShippingAddresses:
    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self) -> "list[ShippingAddress]":
        from linkpay.wire import ShippingAddressList

        data = self._http.request("GET", "/shipping_addresses")
        return parse(ShippingAddressList, data).shipping_addresses


class UserInfoResource:
    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def retrieve(self) -> "UserInfo":
        from linkpay.wire import UserInfo

        return parse(UserInfo, self._http.request("GET", "/userinfo"))


def _page_params(filters: dict[str, Any]) -> Params:
    """Query parameters of a list call; `sources` goes out as repeated `sources[]`."""
    params: list[tuple[str, Any]] = []
    for key, value in filters.items():
        if value is None:
            continue
        if key == "sources":
            params.extend(("sources[]", item) for item in value)
        else:
            params.append((key, value))
    return params


class Transactions:
    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self, **filters: Any) -> "TransactionList":
        from linkpay.wire import TransactionList

        data = self._http.request("GET", "/transactions", params=_page_params(filters))
        return parse(TransactionList, data)


class Sources:
    """The person's funding sources (`GET /sources`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self, **filters: Any) -> "SourceList":
        from linkpay.wire import SourceList

        data = self._http.request("GET", "/sources", params=_page_params(filters))
        return parse(SourceList, data)


class Balances:
    """What the agent may still spend, per source (`GET /balances`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self, **filters: Any) -> "BalanceList":
        from linkpay.wire import BalanceList

        data = self._http.request("GET", "/balances", params=_page_params(filters))
        return parse(BalanceList, data)


class Reports:
    """`report` → POST /agent_observations (what the agent saw at a merchant)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def create(self, body: Any) -> Any:
        return self._http.request("POST", "/agent_observations", json_body=_body(body))
