"""`linkpay.startup_gc`: a console script's start-up runs without the cycle collector,
`ready()` freezes what it made and collects again; nothing happens in a process that is
not a console script (a test calling `main(argv)` in process). Each case runs in a fresh
interpreter: freezing this one would keep the test run's garbage forever."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import gc, sys
from linkpay import startup_gc
if sys.argv[1] == "console":
    startup_gc.console_script()
startup_gc.pause()
paused = not gc.isenabled()
junk = [[] for _ in range(5000)]
startup_gc.ready()
startup_gc.ready()
print(paused, gc.isenabled(), gc.get_freeze_count() >= 5000)
"""


def _run(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_console_script_pauses_then_freezes_and_collects_again() -> None:
    assert _run("console") == "True True True"


def test_nothing_changes_outside_a_console_script() -> None:
    assert _run("in-process") == "False True False"


_WORKER = """
import gc
from linkpay.wallet.app import create_worker_app
app = create_worker_app()
print(gc.isenabled(), gc.get_freeze_count() > 50_000, app.title)
"""


def test_a_serve_worker_freezes_its_start_up(tmp_path: Path) -> None:
    """`serve --workers N` builds each worker's app with `create_worker_app`: its start-up
    objects (the app, models, modules: far more than 50k) leave the cycle collector."""
    env = {"LINKPAY_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", _WORKER], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "True True linkpay wallet"
