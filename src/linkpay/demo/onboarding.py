"""`link-cli onboard`: the guided first run against the person's own wallet.

1. Find the wallet (`LINK_API_BASE_URL`, default http://127.0.0.1:8765). If none answers,
   say how to start one (`link-wallet serve`) and offer the demo on an embedded wallet.
2. Log in with the device flow unless already logged in: the verification link as text
   and QR code, the phrase, then wait until the person approves in the wallet app.
3. Check payment methods; with none, link to the wallet's payment-methods page and
   check again when the person says they added one.
4. Show the wallet app's link as a QR code (approvals happen there, also on a phone).
5. Offer the demo flows (the caller runs them when `run_demo` is true).

The result summarises what was found and done; no token or card data is in it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from linkpay.demo.servers import wallet_reachable
from linkpay.demo.terminal import clean, mask_card

LOGIN_TIMEOUT_SECONDS = 600.0


def _origin(url: str | None) -> str | None:
    """`https://host:port` of a URL the wallet handed out (None if it has none)."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def run_onboarding(link: Any, narrator: Any, *, client_name: str = "link-cli") -> dict[str, Any]:
    from linkpay.client.errors import LinkError, NotAuthenticated

    wallet_url = link.http.api_base_url
    outcome: dict[str, Any] = {"wallet_url": wallet_url}
    narrator.title("Welcome to linkpay: let your agent pay, with your approval each time.")

    narrator.step(1, 5, "Find your wallet", f"link-cli talks to the wallet at {wallet_url}.")
    if not wallet_reachable(wallet_url):
        narrator.fail(f"No wallet answers at {wallet_url}.")
        narrator.info("Start your own with `link-wallet serve` (or set LINK_API_BASE_URL),")
        narrator.info("then run `link-cli onboard` again.")
        outcome.update(wallet_reachable=False, logged_in=False)
        outcome["run_demo"] = narrator.confirm(
            "Meanwhile, try the demo on a temporary test wallet?", default=True
        )
        return outcome
    narrator.ok("The wallet answers.")
    outcome["wallet_reachable"] = True

    narrator.step(
        2,
        5,
        "Connect this agent to your wallet",
        "The device login: you approve this agent once, in the wallet app.",
    )
    already = False
    app_url = wallet_url
    if link.tokens is not None:
        try:
            link.user_info.retrieve()
            already = True
        except NotAuthenticated:
            already = False
    if already:
        narrator.ok("Already logged in (use `link-cli auth logout` to switch).")
    else:
        started = link.device.start(client_name=client_name)
        url = started.verification_uri_complete or started.verification_uri
        app_url = _origin(url) or app_url  # the wallet's public address (LINKPAY_PUBLIC_URL)
        narrator.show_link("Open this link and approve the connection", url)
        narrator.info(f"The phrase to check: {clean(started.user_code)}")
        narrator.info("Waiting for your approval…")
        try:
            tokens = link.device.poll(
                started.device_code,
                interval=max(1, int(started.interval or 5)),
                timeout=min(LOGIN_TIMEOUT_SECONDS, float(started.expires_in or 600)),
            )
        except LinkError as exc:
            narrator.fail(clean(exc.message))
            outcome["logged_in"] = False
            return outcome
        link.save_login(tokens, client_name=client_name)
        narrator.ok("Connected.")
    outcome["logged_in"] = True

    narrator.step(
        3,
        5,
        "Check your payment methods",
        "Agents never see these: they get one-time credentials funded by them.",
    )
    methods = link.payment_methods.list()
    while not methods:
        narrator.info("No payment method yet.")
        narrator.show_link("Add one in the wallet app", f"{wallet_url}/payment-methods", qr=False)
        if not narrator.confirm("Check again?", default=True):
            break
        methods = link.payment_methods.list()
    for method in methods:
        details = getattr(method, "card_details", None)
        label = (
            mask_card(details.brand, details.last4, details.exp_month, details.exp_year)
            if details is not None
            else clean(method.type)
        )
        narrator.ok(label + ("  (default)" if method.is_default else ""))
    outcome["payment_methods"] = len(methods)

    narrator.step(
        4,
        5,
        "Keep the wallet app at hand",
        "Approval requests open there; scan the code to open it on your phone.",
    )
    narrator.show_link("Wallet app", f"{app_url}/")
    outcome["wallet_app_url"] = f"{app_url}/"

    narrator.step(
        5,
        5,
        "Try it",
        "The demo pays a demo merchant in test mode, twice: with a "
        "virtual card at a checkout page, and with a shared payment token (HTTP 402).",
    )
    outcome["run_demo"] = narrator.confirm("Run the demo now?", default=True)
    return outcome
