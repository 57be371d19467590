"""Provider webhook routes: verify the provider's signature, then hand the event to
`wallet/decide` (real-time authorizations, settlement). Mounted at `/webhooks/…`."""

from linkpay.wallet.webhooks import lithic, stripe

ROUTERS = (stripe.router, lithic.router)
