"""The two demo flows, step by step, through the real SDK and MPP client.

Card: spend request → the person approves → the agent retrieves the one-time card →
the agent fills the demo merchant's checkout form → the wallet marks the request
`succeeded`.
SPT: the paid API answers 402 → `mpp decode` → a shared-payment-token spend request →
the person approves → `mpp pay` → 200 with a `Payment-Receipt`.

Each flow returns a JSON-able summary with `succeeded: bool`; a failure in one flow is
reported in its summary and never stops the other.
"""

from __future__ import annotations

import threading
from typing import Any

from linkpay.demo.environment import DemoEnvironment
from linkpay.demo.terminal import clean, mask_card

APPROVAL_TIMEOUT_SECONDS = 600.0
_WATCH_SLICE_SECONDS = 2

CARD_CONTEXT = (
    "Demo purchase: I am buying the items in the cart at the Linkpay Demo Shop (coffee beans "
    "and an enamel camp mug) for the person, paying at the shop's checkout page with a "
    "one-time virtual card. Test mode: no real money moves."
)
SPT_CONTEXT = (
    "Demo machine payment: the demo merchant's paid API (/api/fortune) asked for payment with "
    "HTTP 402. I will pay it once with a shared payment token scoped to this merchant's "
    "network id and amount. Test mode: no real money moves."
)


class FlowFailed(Exception):
    """A step of a flow did not end as it should; the message says which and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _money(amount: int, currency: str) -> str:
    from linkpay.money import format_money

    return format_money(amount, currency)


def obtain_approval(env: DemoEnvironment, narrator: Any, spend_request: Any) -> Any:
    """Show the approval link, then get the person's answer: at the prompt (test person),
    in the browser page, or automatically (non-interactive). Returns the request once its
    status is terminal for polling; raises FlowFailed unless it is `approved`."""
    link = env.link
    approval_url = spend_request.approval_url or f"{env.wallet_url}/approve/{spend_request.id}"
    if narrator.interactive and env.browser_approval_link is not None:
        narrator.show_link(
            "Approval page (open it on this machine; the link signs you in as the test person)",
            env.browser_approval_link(spend_request.id),
        )
    else:
        narrator.show_link("Approval page (open it on this machine)", approval_url)

    if not narrator.interactive and env.approve is not None:
        narrator.info("Approving as the test person (non-interactive mode).")
        env.approve(spend_request.id)
        current = link.spend_requests.wait_for(spend_request.id, timeout=APPROVAL_TIMEOUT_SECONDS)
        return _approved_or_fail(narrator, spend_request.id, current)

    settled = threading.Event()
    outcome: dict[str, Any] = {}

    def watch() -> None:
        try:
            outcome["request"] = _wait_until_settled(link, spend_request.id)
        except Exception as exc:  # reported to the main thread below
            outcome["error"] = exc
        finally:
            settled.set()

    watcher = threading.Thread(target=watch, name="demo-approval-watch", daemon=True)
    watcher.start()
    if env.can_approve_here:
        answer = narrator.wait_for_approval(
            "Approve in the browser, or here: approve as the test person?", settled.is_set
        )
        decide = {True: env.approve, False: env.deny}.get(answer) if answer is not None else None
        if decide is not None:
            try:
                decide(spend_request.id)
            except Exception:  # noqa: BLE001 - decided on the page meanwhile: the watcher tells
                narrator.info("The request was already decided on the approval page.")
    else:
        narrator.info("Waiting for the person to approve on the page above…")

    settled.wait()
    watcher.join()
    if "error" in outcome:
        raise outcome["error"]
    return _approved_or_fail(narrator, spend_request.id, outcome["request"])


def _approved_or_fail(narrator: Any, spend_request_id: str, current: Any) -> Any:
    if current.status != "approved":
        raise FlowFailed("NOT_APPROVED", f"The spend request ended {current.status}, not approved.")
    narrator.ok(f"The person approved {spend_request_id}.")
    return current


def _wait_until_settled(link: Any, spend_request_id: str) -> Any:
    """Long-poll in short slices until the status is terminal for polling.

    Short slices (not the SDK's 30 s `wait_for`) because the wallet's long-poll waits
    for a change from the status *at the time of the call*: an approval landing between
    two fetches would otherwise be seen only when the 30 s slice ends."""
    import time

    from linkpay.wire import is_poll_terminal

    deadline = time.monotonic() + APPROVAL_TIMEOUT_SECONDS
    while True:
        current = link.spend_requests.retrieve(spend_request_id)  # answers at once
        if is_poll_terminal(current) or time.monotonic() > deadline:
            return current
        current = link.spend_requests.retrieve(spend_request_id, wait=_WATCH_SLICE_SECONDS)
        if is_poll_terminal(current):
            return current


def run_card_flow(env: DemoEnvironment, narrator: Any, result: dict[str, Any]) -> None:
    import httpx2

    from linkpay.merchant.checkout import DEFAULT_CART, price_cart, read_order_result
    from linkpay.mpp.exchange import tls_context
    from linkpay.wire import LineItem, SpendRequestCreate, Total

    link = env.link
    total = 5
    cart = price_cart(DEFAULT_CART)

    narrator.step(
        1,
        total,
        "The agent asks for a one-time card",
        "A spend request names the merchant, the amount, the items and why, so the person "
        "can judge it. Nothing can be paid until they approve.",
    )
    created = link.spend_requests.create(
        SpendRequestCreate(
            amount=cart.amount,
            currency=cart.currency,
            merchant_name="Linkpay Demo Shop",
            merchant_url=env.shop_url,
            context=CARD_CONTEXT,
            line_items=[LineItem.model_validate(item) for item in cart.line_items()],
            totals=[Total.model_validate(total) for total in cart.totals()],
            request_approval=True,
            test=True,
        )
    )
    result["spend_request_id"] = created.id
    narrator.ok(
        f"Spend request {created.id}: {_money(created.amount, created.currency)} at "
        f"{created.merchant_name} ({created.status})."
    )

    narrator.step(
        2,
        total,
        "The person approves",
        "The wallet shows the person exactly what will be charged; the approval is bound "
        "to these details.",
    )
    obtain_approval(env, narrator, created)

    narrator.step(
        3,
        total,
        "The agent receives the virtual card",
        "A one-time card for this merchant and at most this amount; the agent never sees "
        "the person's own card.",
    )
    approved = link.spend_requests.retrieve(created.id, include=["card"])
    card = approved.card
    if card is None:
        raise FlowFailed("NO_CARD", "The approved spend request carried no card.")
    result["card"] = {
        "brand": card.brand,
        "last4": card.number[-4:],
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
    }
    narrator.ok(mask_card(card.brand, card.number[-4:], card.exp_month, card.exp_year))

    narrator.step(
        4,
        total,
        "The agent pays at the checkout page",
        f"It fills in the card form at {env.shop_url}/checkout and submits it, like a "
        "shopper would.",
    )
    form = {f"qty_{sku}": str(quantity) for sku, quantity in cart.quantities.items()}
    billing = card.billing_address
    form.update(
        number=card.number,
        expiry=f"{card.exp_month:02d}/{card.exp_year % 100:02d}",
        cvc=card.cvc,
        name=(billing.name if billing and billing.name else "Test Person"),
        postcode=(billing.postal_code if billing and billing.postal_code else "94107"),
    )
    # One TLS context per process (the MPP client's): each default one loads the CA
    # store again (~60 ms), though the demo's own servers speak plain HTTP.
    with httpx2.Client(timeout=30.0, follow_redirects=True, verify=tls_context()) as browser:
        page = browser.post(f"{env.shop_url}/checkout", data=form)
    del form, card, approved  # the card's secrets are not kept past this point
    checkout = read_order_result(page.text) or {
        "outcome": "unknown",
        "message": f"HTTP {page.status_code}, no result on the page",
    }
    result["checkout"] = {key: clean(value) for key, value in checkout.items()}
    if checkout["outcome"] != "succeeded":
        narrator.fail(f"Checkout page: {checkout['message']}")
        raise FlowFailed("CHECKOUT_DECLINED", f"The checkout page said: {checkout['message']}")
    narrator.ok(f"Checkout page: {checkout['message']}")

    narrator.step(
        5,
        total,
        "The wallet records the payment",
        "The card is now used up: the spend request is final and a second charge would be "
        "declined.",
    )
    final = link.spend_requests.retrieve(created.id)
    result["status"] = final.status
    if final.status != "succeeded":
        raise FlowFailed("UNEXPECTED_STATUS", f"Spend request is {final.status}, not succeeded.")
    narrator.ok(f"Spend request {final.id} is {final.status}.")
    result["succeeded"] = True


def run_spt_flow(env: DemoEnvironment, narrator: Any, result: dict[str, Any]) -> None:
    import httpx2

    from linkpay.mpp.client import decode, pay
    from linkpay.mpp.exchange import tls_context
    from linkpay.wire import SpendRequest

    link = env.link
    total = 5
    url = env.paid_api_url

    narrator.step(
        1,
        total,
        "The agent calls a paid API",
        "Machine payments: the merchant answers 402 Payment Required with a `Payment` "
        "challenge saying what it costs and where to pay.",
    )
    with httpx2.Client(timeout=30.0, follow_redirects=False, verify=tls_context()) as http:
        probe = http.get(url)
    challenge_values = probe.headers.get_list("www-authenticate")
    if probe.status_code != 402 or not challenge_values:
        raise FlowFailed(
            "UNEXPECTED_RESPONSE", f"{url} answered {probe.status_code}, not 402 with a challenge."
        )
    narrator.ok(f"GET {url} → 402 Payment Required")

    narrator.step(
        2,
        total,
        "The agent decodes the challenge (`link-cli mpp decode`)",
        "It reads the amount, the currency and the merchant's network id: the spend request "
        "will be scoped to exactly these.",
    )
    decoded = decode(challenge_values)
    result["challenge"] = {key: decoded.get(key) for key in ("amount", "currency", "network_id")}
    narrator.ok(
        f"{_money(int(decoded['amount']), decoded['currency'])} to network id "
        f"{decoded['network_id']} (intent {decoded['intent']})"
    )

    narrator.step(
        3,
        total,
        "The agent asks for a shared payment token (`link-cli mpp pay`)",
        "Without an approved spend request, `mpp pay` creates one from the challenge and "
        "asks the person.",
    )
    asked = pay(url, link=link, context=SPT_CONTEXT, test=True)
    if not asked.get("approval_required"):
        raise FlowFailed("UNEXPECTED_RESPONSE", "`mpp pay` did not ask for an approval.")
    # `mpp pay` answers with the request it created: no need to fetch it again.
    created = SpendRequest.model_validate(asked["spend_request"])
    spend_request_id = created.id
    result["spend_request_id"] = spend_request_id
    narrator.ok(
        f"Spend request {created.id}: {_money(created.amount, created.currency)}, shared "
        f"payment token for {created.network_id} ({created.status})."
    )

    narrator.step(4, total, "The person approves", "Same approval page as for cards.")
    obtain_approval(env, narrator, created)

    narrator.step(
        5,
        total,
        "The agent pays (`link-cli mpp pay --spend-request-id`)",
        "It retries the request once with the token; the merchant settles it at the wallet "
        "and answers with the resource and a Payment-Receipt.",
    )
    paid = pay(url, link=link, spend_request_id=spend_request_id)
    result["http_status"] = paid.get("status")
    if paid.get("receipt"):
        result["receipt"] = paid["receipt"]
    result["response"] = _json_or_text(paid.get("body", ""))
    if not paid.get("paid") or paid.get("status") != 200:
        problem = paid.get("problem")
        if not isinstance(problem, dict):
            problem = {}
        reason = problem.get("detail") or problem.get("title") or clean(paid.get("body", ""))[:200]
        raise FlowFailed("PAYMENT_REFUSED", f"The merchant answered {paid.get('status')}: {reason}")
    if not paid.get("receipt"):
        raise FlowFailed("NO_RECEIPT", "The merchant answered 200 without a Payment-Receipt.")
    narrator.ok(f"HTTP {paid['status']} with receipt {paid['receipt'].get('reference')}")
    narrator.info(f"Response: {clean(paid.get('body', ''))[:300]}")
    final = link.spend_requests.retrieve(spend_request_id)
    result["status"] = final.status
    if final.status != "succeeded":
        raise FlowFailed("UNEXPECTED_STATUS", f"Spend request is {final.status}, not succeeded.")
    narrator.ok(f"Spend request {final.id} is {final.status}.")
    result["succeeded"] = True


def _json_or_text(body: str) -> Any:
    import json

    try:
        return json.loads(body)
    except ValueError:
        return clean(body)[:1000]
