"""Tests marked `serial` run alone, also when the suite runs on xdist workers
(`scripts/test` runs `-n 2 --dist loadfile`).

`serial` is for tests that take the whole machine: several `link-wallet serve`
processes, dozens of PostgreSQL connections at once (the server allows 100, shared with
everything else on the box), or timing they assert. xdist has no such notion, so the
workers share two lock files (flock):

- every other test holds the gate *shared* from its setup to its teardown;
- a serial module holds it *exclusively* from its first test's setup to its last test's
  teardown, so its module fixtures (servers, pools) are gone before anything else runs;
- a waiting serial module holds the turnstile, which every shared request passes
  through first, so the other worker cannot starve it by starting test after test.

This wraps the whole runtest protocol outside pytest-timeout's wrapper: waiting for the
gate never counts against a test's timeout. Without xdist nothing here does anything.
Registered by tests/conftest.py."""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

import pytest

_DIRECTORY_KEY = "linkpay_serial_gate"
_gate_key = pytest.StashKey["Gate"]()
_directory_key = pytest.StashKey[Path]()


class Gate:
    """One worker's side of the shared lock (one open file each, so the worker never
    blocks on itself)."""

    def __init__(self, directory: Path) -> None:
        self._gate: IO[bytes] = open(directory / "gate.lock", "ab")  # noqa: SIM115
        self._turnstile: IO[bytes] = open(directory / "turnstile.lock", "ab")  # noqa: SIM115
        self.held: int | None = None  # fcntl.LOCK_SH or LOCK_EX

    def shared(self) -> None:
        if self.held is not None:
            return  # an exclusive hold covers it
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)  # waits while a serial module waits
        fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        fcntl.flock(self._gate, fcntl.LOCK_SH)
        self.held = fcntl.LOCK_SH

    def exclusive(self) -> None:
        if self.held == fcntl.LOCK_EX:
            return
        self.release()
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._gate, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        self.held = fcntl.LOCK_EX

    def release(self) -> None:
        if self.held is not None:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
            self.held = None

    def close(self) -> None:
        self.release()
        self._gate.close()
        self._turnstile.close()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller: one lock directory for this run, handed to every worker."""
    config = node.config
    if _directory_key not in config.stash:
        config.stash[_directory_key] = Path(tempfile.mkdtemp(prefix="linkpay-serial-"))
    node.workerinput[_DIRECTORY_KEY] = str(config.stash[_directory_key])


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _DIRECTORY_KEY in workerinput:
        config.stash[_gate_key] = Gate(Path(workerinput[_DIRECTORY_KEY]))


def pytest_unconfigure(config: pytest.Config) -> None:
    gate = config.stash.get(_gate_key, None)
    if gate is not None:
        gate.close()
    directory = config.stash.get(_directory_key, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    gate = item.config.stash.get(_gate_key, None)
    if gate is None:
        return (yield)
    serial = item.get_closest_marker("serial") is not None
    if serial:
        gate.exclusive()
    else:
        gate.shared()
    try:
        return (yield)
    finally:
        if not serial or nextitem is None or nextitem.path != item.path:
            gate.release()
