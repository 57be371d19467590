"""The person's approval app, included by `create_app`: sign-in, device approval
(`/device`), spend approval (`/approve/{id}`), wallet and settings pages, assets.

Server-rendered Jinja2 pages with plain forms (POST-redirect-GET), so approving and
denying need no JavaScript; `static/app.js` only adds passkeys and push subscription.
Every route uses `http.WebRoute` (security headers, HTML errors) and every form is
CSRF-checked (`sessions.check_csrf`).

`ROUTERS` lists the page routers in matching order; `create_app` adds their routes to
the app itself (an included router's routes would be analysed a second time)."""

from linkpay.wallet.web import (
    pages_activity,
    pages_approve,
    pages_assets,
    pages_auth,
    pages_cards,
    pages_confirm,
    pages_device,
    pages_issuer,
    pages_policy,
    pages_profile,
    pages_settings,
    pages_spending,
    pages_wallet,
)

ROUTERS = tuple(
    module.router
    for module in (
        pages_assets,
        pages_auth,
        pages_device,
        pages_approve,
        pages_issuer,
        pages_settings,
        pages_wallet,
        pages_cards,
        pages_activity,
        pages_profile,
        pages_policy,
        pages_confirm,
        pages_spending,
    )
)
