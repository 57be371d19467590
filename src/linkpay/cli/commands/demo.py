"""`demo` and `onboard`: the guided first run (cli.md). Both only parse flags and hand
over to `linkpay.demo` (through `cli/demo_run.py`, which `link-cli demo --yes` reaches
without the registry), which drives the real SDK, MPP client, wallet and merchant.

`demo` is always test mode. Interactive when stdin and stdout are terminals and `--yes`
is not given: a menu, explanations, approval link + QR and the "approve as the test
person?" prompt. Otherwise it runs both flows approving as the test person, narrates one
line per step on stderr and prints the summary in `--format`; exit 0 only when every
chosen flow succeeded (else `DEMO_FAILED` with the same summary under `summary`).
"""

import sys
from typing import Annotated, Any

from pydantic import Field

from linkpay.cli.demo_run import is_terminal, make_narrator, run_demo_command, run_demo_flags
from linkpay.cli.registry import CommandError, CommandInput, Context, command

DEMO_HELP = (
    "Walk through both payment flows in test mode: a one-time virtual card at a checkout "
    "page, and a shared payment token over HTTP 402 (MPP). Starts an embedded test wallet "
    "and demo merchant when no wallet is configured."
)
ONBOARD_HELP = (
    "Guided first run: log in to your wallet, check your payment methods, get the wallet "
    "app link as a QR code, then try the demo flows."
)


class DemoInput(CommandInput):
    only_card: Annotated[bool, Field(description="Run only the virtual card flow")] = False
    only_spt: Annotated[
        bool, Field(description="Run only the shared payment token (MPP, HTTP 402) flow")
    ] = False
    yes: Annotated[
        bool,
        Field(description="Non-interactive: no menu or questions, approve as the test person"),
    ] = False


@command("demo", input=DemoInput, description=DEMO_HELP, mcp=False)
def demo(inp: DemoInput, ctx: Context) -> dict[str, Any]:
    return run_demo_flags(ctx, yes=inp.yes, only_card=inp.only_card, only_spt=inp.only_spt)


class OnboardInput(CommandInput):
    client_name: Annotated[
        str, Field(description="How this connection is named in the wallet", max_length=100)
    ] = "link-cli"


@command("onboard", input=OnboardInput, description=ONBOARD_HELP, interactive=True)
def onboard(inp: OnboardInput, ctx: Context) -> dict[str, Any] | None:
    if not (is_terminal(sys.stdin) and is_terminal(sys.stdout)):
        raise CommandError(
            "REQUIRES_TTY",
            "onboard is interactive; run it in a terminal. For scripts: `link-cli auth login`, "
            "`link-cli payment-methods list`, `link-cli demo --yes`.",
        )
    from linkpay.demo.onboarding import run_onboarding

    narrator = make_narrator(ctx, interactive=True)
    outcome = run_onboarding(ctx.link(), narrator, client_name=inp.client_name)
    if outcome.get("run_demo"):
        outcome["demo"] = run_demo_command(ctx, only=None, interactive=True)
    outcome.pop("run_demo", None)
    return outcome
