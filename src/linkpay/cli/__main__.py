"""`python -m linkpay.cli` runs link-cli."""

import sys

from linkpay.cli.main import main

sys.exit(main())
