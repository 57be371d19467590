"""The demo merchant in a background thread on loopback: for tests, `demo` and benches.

    settings = MerchantSettings(wallet_url=..., api_key=..., network_id=...)
    with start_embedded_merchant(settings) as m:
        m.base_url   # http://127.0.0.1:<port>; the paid API is f"{m.base_url}/api/fortune"

Any ASGI app can be served the same way with `linkpay.serving.serve_in_thread`.
"""

from __future__ import annotations

from linkpay.merchant.settings import MerchantSettings
from linkpay.serving import ServedApp, serve_in_thread


def start_embedded_merchant(settings: MerchantSettings, *, port: int = 0) -> ServedApp:
    from linkpay.merchant.app import create_merchant_app

    return serve_in_thread(
        lambda base_url: create_merchant_app(settings.served_at(base_url)),
        port=port,
        name="linkpay-merchant",
    )
