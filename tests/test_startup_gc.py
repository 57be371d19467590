"""`linkpay.startup_gc`: a console script's start-up runs without the cycle collector,
`ready()` freezes what it made and collects again; nothing happens in a process that is
not a console script (a test calling `main(argv)` in process). Each case runs in a fresh
interpreter: freezing this one would keep the test run's garbage forever."""

from __future__ import annotations

import subprocess
import sys

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
