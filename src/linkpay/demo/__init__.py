"""`link-cli demo` and `link-cli onboard`: a guided walk through the product.

The demo drives the real pieces (the SDK in `linkpay.client`, the MPP client in
`linkpay.mpp`, the wallet's approval page and test network, the demo merchant's checkout
page and MPP endpoint) and narrates each step; it never re-implements them.

- `environment`: find the wallet to use, or start an embedded one with a test person, a
  test card and the demo merchant on loopback ports.
- `flows`: the card flow and the shared-payment-token flow, step by step.
- `terminal`: how steps, approval links (with a QR code) and prompts are shown.
"""
