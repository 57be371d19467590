"""`python -m linkpay.wallet.admin …` runs `link-wallet`."""

import sys

from linkpay.wallet.admin import main

sys.exit(main())
