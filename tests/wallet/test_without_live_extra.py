"""The wallet runs without the optional `live` extra (stripe, lithic, stamina): the
demo and a plain `pip install linkpay` must build the whole app. A subprocess blocks
those packages and builds it; an import of them on the start-up path fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys

class BlockLiveExtra:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("stripe", "lithic", "stamina"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, BlockLiveExtra())
from linkpay.wallet.app import create_app
from linkpay.wallet.settings import Settings

create_app(Settings.from_env(data_dir=sys.argv[1]))
print(sorted(name for name in sys.modules if name.startswith("linkpay.wallet.")))
"""


def test_whole_app_builds_without_stripe_lithic_or_stamina(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = done.stdout
    for module in ("web.pages_issuer", "issuing.payment_methods", "webhooks.stripe", "api.device"):
        assert f"'linkpay.wallet.{module}'" in loaded  # the whole app, issuer pages too
