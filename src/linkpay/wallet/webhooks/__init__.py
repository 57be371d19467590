"""Provider webhook routes: verify the provider's signature, then hand the event to
`wallet/decide` (real-time authorizations, settlement). Mounted at `/webhooks/…`."""

from fastapi import APIRouter

from linkpay.wallet.webhooks import lithic, stripe

router = APIRouter(include_in_schema=False)
router.include_router(stripe.router)
router.include_router(lithic.router)
