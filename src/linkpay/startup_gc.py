"""The cycle collector during a console script's start-up and exit.

A start-up allocates ~150k long-lived objects (modules, classes, models, the app) and
almost no garbage, yet the collector ran ~300 times while `link-wallet serve` started
(~11% of its CPU before its first answer; ~10% of `link-cli demo`), and at exit it walks
everything again (~0.2 s of the demo's CPU). So a console script (`console_script()`,
called by the entry points only, never by tests calling `main(argv)` in process):

- `pause()`: no collection while a long-running command starts;
- `ready()`: start-up is over: `gc.freeze()` what it made (later collections skip it,
  as after a fork) and collect again. The few cycles start-up leaves (~2,400 objects in
  the wallet) are frozen with the rest;
- `before_exit()`: freeze everything, so the interpreter's exit does not walk it.
"""

from __future__ import annotations

import gc

_console = False
_paused = False


def console_script() -> None:
    """This process is a console script: the functions below may act."""
    global _console
    _console = True


def pause() -> None:
    global _paused
    if _console and not _paused and gc.isenabled():
        gc.disable()
        _paused = True


def ready() -> None:
    """Idempotent; a no-op unless `pause` stopped the collector."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def before_exit() -> None:
    if _console:
        gc.freeze()
