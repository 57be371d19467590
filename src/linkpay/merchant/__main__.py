"""Serve the demo merchant on its own: `python -m linkpay.merchant [--host H] [--port N]`.

Configure it with `LINKPAY_MERCHANT_*` (see `linkpay.merchant.settings`); at least
WALLET_URL, API_KEY and NETWORK_ID, e.g. from `link-wallet merchant create`.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from linkpay.merchant.app import create_merchant_app
    from linkpay.merchant.settings import MerchantSettings

    parser = argparse.ArgumentParser(prog="python -m linkpay.merchant", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8780)
    args = parser.parse_args(argv)
    settings = MerchantSettings.from_env()
    if not settings.api_key.get_secret_value() or not settings.network_id:
        print(
            "Set LINKPAY_MERCHANT_API_KEY and LINKPAY_MERCHANT_NETWORK_ID (from "
            "`link-wallet merchant create`) and LINKPAY_MERCHANT_WALLET_URL.",
            file=sys.stderr,
        )
        return 1
    if "LINKPAY_MERCHANT_PUBLIC_URL" not in os.environ:
        settings = settings.served_at(f"http://{args.host}:{args.port}")
    uvicorn.run(create_merchant_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
