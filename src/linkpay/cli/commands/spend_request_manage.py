"""`spend-request retrieve|list|cancel|request-approval`: following a request after it
was created."""

from typing import Annotated, Any, Literal

from pydantic import Field

from linkpay.cli.credentials import check_output_path, finish, poll
from linkpay.cli.registry import CommandInput, Context, Flag, command
from linkpay.cli.views import POLL_ARGS, RETRIEVE, spend_request_data, with_guidance

SpendRequestId = Annotated[
    str,
    Flag(positional=True),
    Field(min_length=1, max_length=200, description="Spend request id (lsrq_…)"),
]


class RetrieveInput(CommandInput):
    """Retrieve a spend request; with --interval, wait until it is decided.

    While waiting, output appears only when the status changes: with --format jsonl one
    line per change; in the other formats the decided request once (a single
    document); on a terminal a spinner shows the status. POLLING_TIMEOUT (exit 1,
    retryable) when time or attempts run out first."""

    id: SpendRequestId
    include: list[Literal["card", "shared_payment_token"]] | None = Field(
        default=None,
        description="Add credentials once approved: card (number, cvc: only when about "
        "to fill a form) or shared_payment_token",
    )
    interval: float = Field(
        default=0,
        ge=0,
        le=300,
        description="When > 0: poll until a terminal status, at most this many seconds "
        "apart (long-poll is used when the wallet has it)",
    )
    max_attempts: int = Field(
        default=0, ge=0, description="Give up after this many fetches; 0 = unlimited"
    )
    timeout: float = Field(
        default=600, gt=0, le=86400, description="Give up after this many seconds (POLLING_TIMEOUT)"
    )
    output_file: str | None = Field(
        default=None,
        description="Write the full card to this new file (mode 0600; symlinks refused "
        "anywhere on the path); stdout then shows only brand, last4, expiry and "
        "card_output_file",
    )
    force: bool = Field(default=False, description="With --output-file: replace an existing file")


@command("spend-request", "retrieve", input=RetrieveInput, read_only=True)
def retrieve(inp: RetrieveInput, ctx: Context) -> Any:
    include = tuple(inp.include or ())
    check_output_path(inp.output_file, inp.force)
    if inp.interval > 0:
        return poll(
            ctx,
            inp.id,
            interval=inp.interval,
            max_attempts=inp.max_attempts or None,
            timeout=inp.timeout,
            include=include,
            output_file=inp.output_file,
            force=inp.force,
        )
    fetch_include = tuple(sorted(set(include) | ({"card"} if inp.output_file else set())))
    request = ctx.link().spend_requests.retrieve(inp.id, include=fetch_include)
    return finish(request, ctx, include, inp.output_file, inp.force)


class ListInput(CommandInput):
    """List spend requests (active ones; --include-history for all), as full objects."""

    include_history: bool = Field(default=False, description="Also list decided and used requests")


@command("spend-request", "list", input=ListInput, read_only=True)
def list_requests(inp: ListInput, ctx: Context) -> Any:
    requests = ctx.link().spend_requests.list(include_history=inp.include_history)
    return [spend_request_data(request) for request in requests]


class IdInput(CommandInput):
    id: SpendRequestId


class CancelInput(IdInput):
    """Cancel a spend request (voids an issued credential)."""


@command("spend-request", "cancel", input=CancelInput, destructive=True)
def cancel(inp: CancelInput, ctx: Context) -> Any:
    request = ctx.link().spend_requests.cancel(inp.id)
    return with_guidance(spend_request_data(request), request, ctx)


class RequestApprovalInput(IdInput):
    """Send the person the approval request now; returns the approval link."""


@command("spend-request", "request-approval", input=RequestApprovalInput)
def request_approval(inp: RequestApprovalInput, ctx: Context) -> Any:
    link = ctx.link().spend_requests.request_approval(inp.id)
    if ctx.human:
        from linkpay.cli.output.tty import show_link

        show_link(link.approval_link, "Ask the person to approve here", ctx.stderr)
    return {
        "id": link.id,
        "approval_link": link.approval_link,
        "instruction": "Show the person the approval_link and ask them to approve; then poll.",
        "_next": ctx.next_step(RETRIEVE, id=link.id, **POLL_ARGS),
    }
