"""How the demo talks to a person: narrated steps, approval links with a QR code, a menu
and yes/no prompts.

Two narrators share one interface. `TerminalNarrator` is for a person at a TTY: it
explains each step, shows the QR code and asks questions. `QuietNarrator` is for scripts
and CI (`--yes` or no TTY): it writes one plain line per step to stderr, so stdout holds
only the final summary in the chosen `--format`, and it never asks anything.

Every string that came from a server or a merchant is stripped of escape and control
characters before it reaches the terminal.
"""

from __future__ import annotations

import select
import sys
import time
from collections.abc import Callable
from typing import TextIO

from linkpay.public_url import loopback_note


def clean(text: object) -> str:
    """Remove ANSI escapes and control characters (keeps newlines and tabs), with the
    same sanitizer the CLI applies to every output format."""
    from linkpay.text import sanitize_text

    return sanitize_text(str(text))


def mask_card(
    brand: str | None, last4: str | None, exp_month: int | None = None, exp_year: int | None = None
) -> str:
    shown = f"{clean(brand or 'card').title()} •••• {clean(last4 or '????')}"
    if exp_month and exp_year:
        shown += f"  exp {exp_month:02d}/{exp_year % 100:02d}"
    return shown


class QuietNarrator:
    """Non-interactive: one line per step on stderr; approvals are automatic."""

    interactive = False
    draws_on_terminal = False

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    def _line(self, text: str) -> None:
        print(clean(text), file=self.out, flush=True)

    def title(self, text: str) -> None:
        self._line(f"== {text}")

    def step(self, number: int, total: int, text: str, explain: str = "") -> None:
        self._line(f"[{number}/{total}] {text}")

    def info(self, text: str) -> None:
        self._line(f"    {text}")

    def ok(self, text: str) -> None:
        self._line(f"    ok: {text}")

    def fail(self, text: str) -> None:
        self._line(f"    FAILED: {text}")

    def show_link(self, label: str, url: str, *, qr: bool = True) -> None:
        self._line(f"    {label}: {url}")

    def choose_flows(self, options: list[tuple[str, str]]) -> list[str]:
        return [key for key, _ in options]

    def confirm(self, question: str, default: bool = True) -> bool:
        return default

    def wait_for_approval(self, question: str, is_settled: Callable[[], bool]) -> bool | None:
        return True


class TerminalNarrator:
    """Interactive: explanations, colours (unless NO_COLOR), QR codes and questions.

    `auto=True` (a person watching `demo --yes` on a terminal): the same explained
    steps, but no questions, no QR codes, and approvals made as the test person."""

    def __init__(
        self, out: TextIO | None = None, inp: TextIO | None = None, *, auto: bool = False
    ) -> None:
        from rich.console import Console

        self.interactive = not auto
        self.draws_on_terminal = True
        self.out = out or sys.stdout
        self.inp = inp or sys.stdin
        self.console = Console(file=self.out, highlight=False, soft_wrap=True)

    def _print(self, text: str = "", style: str | None = None) -> None:
        from rich.text import Text

        self.console.print(Text(clean(text), style=style or ""))

    def title(self, text: str) -> None:
        self._print()
        self._print(text, "bold")

    def step(self, number: int, total: int, text: str, explain: str = "") -> None:
        self._print()
        self._print(f"Step {number}/{total}: {text}", "bold cyan")
        if explain:
            self._print(explain, "dim")

    def info(self, text: str) -> None:
        self._print(f"  {text}")

    def ok(self, text: str) -> None:
        self._print(f"  ✓ {text}", "green")

    def fail(self, text: str) -> None:
        self._print(f"  ✗ {text}", "bold red")

    def show_link(self, label: str, url: str, *, qr: bool = True) -> None:
        self._print(f"  {label}:")
        self._print(f"  {url}", "underline")
        if qr and self.interactive:
            import segno

            segno.make(url, error="m").terminal(out=self.out, compact=True, border=1)
            note = loopback_note(url)
            if note:  # a phone scanning the code would find nothing there
                self._print(f"  {note}", "yellow")
        self.out.flush()

    def _ask(self, prompt: str) -> str | None:
        self.console.print(clean(prompt), end="", markup=False, highlight=False)
        self.out.flush()
        line = self.inp.readline()
        return None if line == "" else line.strip()

    def choose_flows(self, options: list[tuple[str, str]]) -> list[str]:
        if not self.interactive:
            return [key for key, _ in options]
        self._print()
        self._print("What would you like to try?", "bold")
        for index, (_, label) in enumerate(options, start=1):
            self._print(f"  {index}) {label}")
        both = len(options) + 1
        self._print(f"  {both}) Both, one after the other")
        while True:
            answer = self._ask(f"Choose 1-{both} [{both}]: ")
            if answer is None or answer == "" or answer == str(both):
                return [key for key, _ in options]
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return [options[int(answer) - 1][0]]
            self._print(f"  Please type a number from 1 to {both}.", "yellow")

    def confirm(self, question: str, default: bool = True) -> bool:
        if not self.interactive:
            return default
        hint = "[Y/n]" if default else "[y/N]"
        while True:
            answer = self._ask(f"{question} {hint} ")
            if answer is None or answer == "":
                return default
            if answer.lower() in ("y", "yes"):
                return True
            if answer.lower() in ("n", "no"):
                return False

    def wait_for_approval(self, question: str, is_settled: Callable[[], bool]) -> bool | None:
        """Ask `question` while watching the spend request: returns True/False when the
        person answers here, None when it was settled elsewhere (the browser page)."""
        if not self.interactive:
            return True
        self.console.print(f"{clean(question)} [y/n] ", end="", markup=False)
        self.out.flush()
        readable = _selectable(self.inp)
        while True:
            if is_settled():
                self._print()
                return None
            if readable:
                ready, _, _ = select.select([self.inp], [], [], 0.3)
                if not ready:
                    continue
            line = self.inp.readline()
            if line == "":
                return None if is_settled() else False
            answer = line.strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.console.print("Please answer y or n: ", end="", markup=False)
            self.out.flush()
            if not readable:
                time.sleep(0.1)


def _selectable(stream: TextIO) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
