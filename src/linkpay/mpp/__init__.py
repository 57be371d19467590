"""The Machine Payments Protocol (HTTP 402 `Payment` scheme): client and merchant sides.

Modules (import the one you need; this package imports nothing heavy):

- `wire` — the one adapter over pympp: parse every Payment challenge in header values
  (`parse_challenges`), build and parse credentials and receipts, problem bodies.
- `charge` — the stripe/charge request rules (`validate_stripe_request`) and the
  challenge choice (`select_stripe`).
- `x402` — recognising x402 offers, to say clearly they are not supported.
- `client` — the agent side: `decode(header)` (`link-cli mpp decode`) and
  `pay(url, link=Link(...), ...)` (`link-cli mpp pay`): send-once, checks the fresh
  challenge against the approved spend request before the token leaves; `exchange`
  holds its HTTP side (request replay, URL policy, --verbose lines, result shape).
- `server` — the merchant side: `PaymentGate` (HMAC-bound challenges, verification,
  single-use challenge ids, settlement, spec problem types) and `Price`;
  `gate.charge(price)` decorates a FastAPI/Starlette endpoint.
- `middleware` — `PaymentMiddleware`: prices for routes of any ASGI app.
- `stores` — used-challenge stores: `MemoryUsedChallengeStore`, `SqlUsedChallengeStore`.
- `processor` — `WalletProcessor`: settles SPTs at a linkpay wallet's
  `/v1/payment_intents`; also usable as pympp's `stripe.charge(client=...)`.
- `errors` — `MppError` and its codes (a `LinkError`, rendered `{code, message}`).

A merchant in a few lines (see `linkpay.merchant` for the demo one):

    gate = PaymentGate(realm="api.example.com", secret_key=SECRET_32_BYTES_OR_MORE,
                       network_id="profile_…", processor=WalletProcessor(WALLET, "sk_test_…"),
                       store=SqlUsedChallengeStore("postgresql://…/merchant"))

    @app.get("/report", openapi_extra=gate.openapi_extra(Price(250)))
    @gate.charge(Price(250, "usd", "One report"))
    async def report(request: Request): ...
"""
