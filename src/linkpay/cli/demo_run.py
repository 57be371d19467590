"""Running `link-cli demo` (and the demo at the end of `onboard`) without the registry.

`link-cli demo --yes` is mostly the embedded wallet's start; building the cyclopts tree
and the pydantic input models first cost ~0.2 s of CPU. `parse_flags` reads the usual
spellings (`--yes`, `--only-card`, `--only-spt`, each at most once, nothing else) and
declines every other one (None), which then takes the registry path; both end in
`run_demo_flags`, so they behave alike (`tests/demo/test_demo_cli.py` runs both).
"""

from __future__ import annotations

import sys

from linkpay.cli.context import CommandError, Context

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any

_FLAGS = {"--yes": "yes", "--only-card": "only_card", "--only-spt": "only_spt"}


def parse_flags(rest: list[str]) -> dict[str, bool] | None:
    """`demo` and its flags as keyword arguments of `run_demo_flags`, or None."""
    if not rest or rest[0] != "demo" or len(set(rest[1:])) != len(rest) - 1:
        return None
    if any(word not in _FLAGS for word in rest[1:]):
        return None
    flags = dict.fromkeys(_FLAGS.values(), False)
    flags.update({_FLAGS[word]: True for word in rest[1:]})
    return flags


def run_demo_flags(ctx: Context, *, yes: bool, only_card: bool, only_spt: bool) -> dict[str, Any]:
    if only_card and only_spt:
        raise CommandError("INVALID_INPUT", "--only-card and --only-spt exclude each other")
    only = "card" if only_card else "spt" if only_spt else None
    interactive = not yes and is_terminal(sys.stdin) and is_terminal(sys.stdout)
    return run_demo_command(ctx, only=only, interactive=interactive)


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def make_narrator(ctx: Context, *, interactive: bool) -> Any:
    """Interactive: the explained walk-through with questions. `--yes` with the TTY view
    (a person watching `scripts/demo`): the same explanations, no questions. Otherwise
    one plain line per step on stderr, so stdout stays one parseable document."""
    from linkpay.demo.terminal import QuietNarrator, TerminalNarrator

    if interactive:
        return TerminalNarrator(out=sys.stdout if ctx.human else ctx.stderr, inp=sys.stdin)
    if ctx.human:
        return TerminalNarrator(out=sys.stdout, auto=True)
    return QuietNarrator(out=ctx.stderr)


def run_demo_command(ctx: Context, *, only: str | None, interactive: bool) -> dict[str, Any]:
    from linkpay import startup_gc
    from linkpay.demo.environment import DemoSetupError
    from linkpay.demo.walkthrough import run_demo

    narrator = make_narrator(ctx, interactive=interactive)
    startup_gc.pause()  # until the wallet and merchant are up (run_demo says when)
    try:
        summary = run_demo(narrator, only=only, verbose=ctx.stderr if ctx.verbose else False)
    except DemoSetupError as exc:
        raise CommandError(exc.code, exc.message) from None
    finally:
        startup_gc.ready()
    if not summary["succeeded"]:
        failed = [name for name, flow in summary["flows"].items() if not flow["succeeded"]]
        raise CommandError(
            "DEMO_FAILED",
            f"The demo's {' and '.join(failed)} flow did not succeed.",
            summary=summary,
        )
    return summary
