"""`python -m linkpay.wallet.admin …` runs `link-wallet`."""

from linkpay.wallet.admin.app import entry

entry()
