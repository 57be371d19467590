"""Ctrl-C while `link-cli` or `link-wallet` is still importing: never a traceback.

The console scripts run as real processes. PYTHONPROFILEIMPORTTIME makes Python report
each import on stderr as it finishes, so the test knows the child is in the middle of
loading (a marker module is done, much more is still to come) and sends SIGINT then.
The answer is a quiet exit 130 (the shell's convention for SIGINT) or, when the signal
lands after loading, the usual `{code: INTERRUPTED}` with exit 1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _default_sigint() -> None:
    # A parent started in the background may ignore SIGINT, and children inherit that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("argv", "marker"),
    [
        # pydantic is done while the command modules are still importing (`list` takes
        # the registry path; `retrieve ID` would be answered without pydantic).
        (["link-cli", "spend-request", "list"], "pydantic"),
        # pkgutil is done while link-wallet's own modules are still importing.
        (["link-wallet", "serve", "--port", "0"], "pkgutil"),
    ],
    ids=["link-cli", "link-wallet"],
)
def test_ctrl_c_while_loading_exits_quietly(argv: list[str], marker: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPROFILEIMPORTTIME": "1",
        "LINKPAY_DATA_DIR": str(tmp_path),
        "LINK_AUTH_FILE": str(tmp_path / "auth.json"),
    }
    proc = subprocess.Popen(
        [str(BIN / argv[0]), *argv[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
    )
    try:
        assert proc.stderr is not None
        seen: list[str] = []
        for line in proc.stderr:
            seen.append(line)
            if line.rsplit("|", 1)[-1].strip() == marker:
                break
        else:
            pytest.fail(f"{marker} was never imported: {''.join(seen)[-2000:]}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
    errors = "".join(seen) + err
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors[-3000:]
    if proc.returncode == 130:
        assert out == ""
    else:  # the signal landed after loading: the command's own answer
        assert proc.returncode == 1, (proc.returncode, out)
        assert "INTERRUPTED" in out
