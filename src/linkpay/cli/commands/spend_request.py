"""`spend-request create|update|retrieve|list|cancel|request-approval`."""

from typing import Annotated, Any, Literal

from pydantic import Field

from linkpay.cli.parsing import parse_line_items, parse_metadata, parse_totals, validate_wire
from linkpay.cli.registry import CommandError, CommandInput, Context, Flag, command
from linkpay.cli.views import (
    POLL_ARGS,
    RETRIEVE,
    card_summary,
    spend_request_data,
    status_instruction,
    with_guidance,
)

MCP_MAX_WAIT_SECONDS = 25  # tools never block on a person for long

SpendRequestId = Annotated[
    str,
    Flag(positional=True),
    Field(min_length=1, max_length=200, description="Spend request id (lsrq_…)"),
]
LineItemFlag = Field(
    default=None,
    description="Repeatable. key:value pairs separated by commas; name required; keys: name, "
    "quantity, unit_amount (cents), description, sku, url, image_url, product_url. "
    "Example: name:Coffee mug,quantity:2,unit_amount:1500",
)
TotalFlag = Field(
    default=None,
    description="Repeatable. type:…,amount:…[,display_text:…]; type is one of subtotal, tax, "
    "total, items_base_amount, items_discount, discount, fulfillment, shipping, fee, gift_wrap, "
    "tip, store_credit. A total of type 'total' must equal --amount.",
)
OutputFile = Field(
    default=None,
    description="Write the full card to this new file (mode 0600; never follows symlinks); "
    "stdout then shows only brand, last4, expiry and the path",
)
Force = Field(default=False, description="With --output-file: replace an existing regular file")


class CreateInput(CommandInput):
    """Create a spend request: ask the person to approve one purchase. Returns at once
    with the approval link and the next command to poll (agent mode)."""

    payment_method_id: str | None = Field(
        default=None, description="Payment method id (csmrpd_…); the person's default if omitted"
    )
    credential_type: Literal["card", "shared_payment_token"] = Field(
        default="card",
        description="card (one-time virtual card) or shared_payment_token (for MPP/HTTP 402)",
    )
    network_id: str | None = Field(
        default=None,
        description="Merchant's network profile id; required for shared_payment_token "
        "(hint: `link-cli mpp decode`)",
    )
    amount: int = Field(description="Amount in integer cents (e.g. 2599 for $25.99); at most 50000")
    currency: str = Field(default="usd", description="3-letter ISO currency code, lower-case")
    merchant_name: Annotated[str | None, Flag(aliases=("-m",))] = Field(
        default=None, description="Merchant name (required for card)"
    )
    merchant_url: str | None = Field(default=None, description="Merchant URL (required for card)")
    context: str = Field(
        description="At least 100 characters telling the person what is being bought and "
        "why; they read this before approving"
    )
    line_item: list[str] | None = LineItemFlag
    total: list[str] | None = TotalFlag
    metadata: list[str] | None = Field(default=None, description="Repeatable key:value")
    expires_at: int | None = Field(
        default=None, description="Unix seconds after which the request lapses"
    )
    request_approval: bool = Field(default=False, description="Notify the person now")
    test: bool = Field(default=False, description="Test mode (test credentials only)")
    output_file: str | None = OutputFile
    force: bool = Force


def _duplicate_error(exc: Any, ctx: Context) -> CommandError:
    existing = exc.extra.get("duplicate_spend_request") or {}
    existing_id = existing.get("id") if isinstance(existing, dict) else None
    where = f" ({existing_id}, status {existing.get('status')})" if existing_id else ""
    extra: dict[str, Any] = {"retry_after": exc.extra.get("retry_after")}
    if existing_id:
        extra["existing_spend_request_id"] = existing_id
        extra["_next"] = ctx.next_step(RETRIEVE, id=existing_id, **POLL_ARGS)
    return CommandError(
        exc.code,
        f"An identical spend request is already pending{where}; resume it instead of "
        "creating another.",
        **extra,
    )


def _in_flag_terms(exc: Any, ctx: Context) -> Any:
    """The wallet names API fields (`payment_details: …`); say which flag to fix, and
    turn "no payment method yet" into NO_PAYMENT_METHOD with the way out."""
    from linkpay.cli.parsing import FIELD_FLAGS

    param = exc.extra.get("param")
    message = exc.message
    if param in FIELD_FLAGS and message.startswith(f"{param}: "):
        message = f"{FIELD_FLAGS[param]}: {message[len(param) + 2 :]}"
    if param == "payment_details" and "no payment method" in message:
        return CommandError(
            "NO_PAYMENT_METHOD",
            "The person has no payment method yet; they must add one in their wallet.",
            _next=ctx.next_step(("payment-methods", "add")),
        )
    exc.message = message
    exc.args = (message,)
    return exc


def _check_output_path(path: str | None, force: bool) -> None:
    """Fail before any network call when --output-file cannot be written."""
    if not path:
        return
    import os
    import stat

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise CommandError("OUTPUT_FILE_SYMLINK", f"Refusing to write {path}: it is a symlink")
    if not force:
        raise CommandError(
            "OUTPUT_FILE_EXISTS", f"{path} already exists; choose a new path or pass --force"
        )


@command("spend-request", "create", input=CreateInput)
def create(inp: CreateInput, ctx: Context) -> Any:
    from linkpay.wire import SpendRequestCreate

    body = {
        "payment_details": inp.payment_method_id,
        "credential_type": inp.credential_type,
        "network_id": inp.network_id,
        "amount": inp.amount,
        "currency": inp.currency,
        "merchant_name": inp.merchant_name,
        "merchant_url": inp.merchant_url,
        "context": inp.context,
        "line_items": parse_line_items(inp.line_item),
        "totals": parse_totals(inp.total),
        "metadata": parse_metadata(inp.metadata),
        "expires_at": inp.expires_at,
        "request_approval": inp.request_approval,
        "test": inp.test,
    }
    wire_body = validate_wire(SpendRequestCreate, {k: v for k, v in body.items() if v is not None})
    _check_output_path(inp.output_file, inp.force)

    from linkpay.client.errors import ApiError

    try:
        request = ctx.link().spend_requests.create(wire_body)
    except ApiError as exc:
        if exc.code == "spend_request_rate_limited":
            raise _duplicate_error(exc, ctx) from None
        raise _in_flag_terms(exc, ctx) from None
    if ctx.human and inp.request_approval and request.approval_url:
        from linkpay.cli.output.tty import show_link

        show_link(request.approval_url, "Ask the person to approve here", ctx.stderr)
        return _poll(
            ctx,
            request.id,
            interval=2.0,
            max_attempts=None,
            timeout=600.0,
            include=(),
            output_file=inp.output_file,
            force=inp.force,
        )
    return with_guidance(spend_request_data(request), request, ctx, output_file=inp.output_file)


class UpdateInput(CommandInput):
    """Change a spend request before it is approved."""

    id: SpendRequestId
    merchant_url: str | None = Field(default=None, description="Merchant URL")
    amount: int | None = Field(default=None, description="Amount in integer cents")
    currency: str | None = Field(default=None, description="3-letter ISO currency code")
    payment_method_id: str | None = Field(default=None, description="Payment method id (csmrpd_…)")
    line_item: list[str] | None = LineItemFlag
    total: list[str] | None = TotalFlag


@command("spend-request", "update", input=UpdateInput)
def update(inp: UpdateInput, ctx: Context) -> Any:
    from linkpay.wire import SpendRequestUpdate

    body = {
        "merchant_url": inp.merchant_url,
        "amount": inp.amount,
        "currency": inp.currency,
        "payment_details": inp.payment_method_id,
        "line_items": parse_line_items(inp.line_item),
        "totals": parse_totals(inp.total),
    }
    body = {k: v for k, v in body.items() if v is not None}
    if not body:
        raise CommandError(
            "INVALID_INPUT",
            "Nothing to update: give at least one of --merchant-url, --amount, --currency, "
            "--payment-method-id, --line-item, --total",
        )
    from linkpay.client.errors import ApiError

    try:
        request = ctx.link().spend_requests.update(inp.id, validate_wire(SpendRequestUpdate, body))
    except ApiError as exc:
        raise _in_flag_terms(exc, ctx) from None
    return with_guidance(spend_request_data(request), request, ctx)


class RetrieveInput(CommandInput):
    """Retrieve a spend request; with --interval, wait until it is decided.

    While waiting, output appears only when the status changes: with --format jsonl one
    line per change; in the other formats the decided request once (a single
    document); on a terminal a spinner shows the status. POLLING_TIMEOUT (exit 1) when
    time or attempts run out first."""

    id: SpendRequestId
    include: list[Literal["card", "shared_payment_token"]] | None = Field(
        default=None,
        description="Add credentials once approved: card (number, cvc: only when about "
        "to fill a form) or shared_payment_token",
    )
    interval: float | None = Field(
        default=None,
        gt=0,
        le=300,
        description="Poll until a terminal status, at most this many seconds apart "
        "(long-poll is used when the wallet has it)",
    )
    max_attempts: int | None = Field(
        default=None, ge=1, description="Give up after this many fetches (POLLING_TIMEOUT)"
    )
    timeout: float = Field(
        default=600, gt=0, le=86400, description="Give up after this many seconds (POLLING_TIMEOUT)"
    )
    output_file: str | None = OutputFile
    force: bool = Force


def _finish(
    request: Any, ctx: Context, include: tuple[str, ...], output_file: str | None, force: bool
) -> dict[str, Any]:
    include_card = "card" in include and not output_file
    wants_card = include_card or bool(output_file)
    if wants_card and request.status == "approved" and request.credential_type == "card":
        if request.card is None:  # never let "approved" stand in for a usable card
            raise CommandError(
                "INVALID_RESPONSE",
                f"Spend request {request.id} is approved but the wallet returned no card; "
                "retrieve it again, or ask the person to check their wallet.",
            )
    data = spend_request_data(request, include_card=include_card)
    if output_file and request.card is not None:
        from linkpay.cli.output.files import write_secret_file

        path = write_secret_file(output_file, request.card.model_dump(mode="json"), force=force)
        data["card"] = card_summary(request.card, path)
        data["instruction"] = (
            status_instruction(request) + f" The full card is in {path} (mode 0600). Use it once "
            "for this merchant and amount, then delete the file."
        )
        return data
    return with_guidance(data, request, ctx, output_file=output_file)


def _poll(
    ctx: Context,
    spend_request_id: str,
    *,
    interval: float,
    max_attempts: int | None,
    timeout: float,
    include: tuple[str, ...],
    output_file: str | None,
    force: bool,
) -> Any:
    from linkpay.client.errors import PollingTimeout

    fetch_include = tuple(sorted(set(include) | ({"card"} if output_file else set())))
    if ctx.mode == "mcp":
        timeout = min(timeout, MCP_MAX_WAIT_SECONDS)
    spinner = None
    if ctx.human:
        from linkpay.cli.output.tty import spinner as make_spinner

        spinner = make_spinner("Waiting for the person to approve…", ctx.stderr)
        spinner.__enter__()

    def on_change(request: Any) -> None:
        if ctx.streaming and not _terminal(request):
            ctx.emit(spend_request_data(request))  # type: ignore[misc]
        if spinner is not None and hasattr(spinner, "update"):
            spinner.update(f"Status: {request.status} (waiting for the person)")

    try:
        request = ctx.link().spend_requests.wait_for(
            spend_request_id,
            interval=interval,
            max_attempts=max_attempts,
            timeout=timeout,
            include=fetch_include,
            on_change=on_change,
        )
    except PollingTimeout as exc:
        last = getattr(exc, "last", None)
        if ctx.mode == "mcp" and last is not None:
            data = spend_request_data(last)
            data["instruction"] = (
                status_instruction(last) + " Still undecided; call this tool again to keep waiting."
            )
            data["_next"] = ctx.next_step(RETRIEVE, id=spend_request_id, **POLL_ARGS)
            return data
        exc.extra["_next"] = ctx.next_step(RETRIEVE, id=spend_request_id, **POLL_ARGS)
        raise
    finally:
        if spinner is not None:
            spinner.__exit__(None, None, None)
    return _finish(request, ctx, include, output_file, force)


def _terminal(request: Any) -> bool:
    from linkpay.wire import is_poll_terminal

    return is_poll_terminal(request)


@command("spend-request", "retrieve", input=RetrieveInput, read_only=True)
def retrieve(inp: RetrieveInput, ctx: Context) -> Any:
    include = tuple(inp.include or ())
    _check_output_path(inp.output_file, inp.force)
    if inp.interval is not None:
        return _poll(
            ctx,
            inp.id,
            interval=inp.interval,
            max_attempts=inp.max_attempts,
            timeout=inp.timeout,
            include=include,
            output_file=inp.output_file,
            force=inp.force,
        )
    fetch_include = tuple(sorted(set(include) | ({"card"} if inp.output_file else set())))
    request = ctx.link().spend_requests.retrieve(inp.id, include=fetch_include)
    return _finish(request, ctx, include, inp.output_file, inp.force)


class ListInput(CommandInput):
    """List spend requests (active ones; --include-history for all)."""

    include_history: bool = Field(default=False, description="Also list decided and used requests")


@command("spend-request", "list", input=ListInput, read_only=True)
def list_requests(inp: ListInput, ctx: Context) -> Any:
    rows = []
    for request in ctx.link().spend_requests.list(include_history=inp.include_history):
        rows.append(
            {
                "id": request.id,
                "status": request.status,
                "amount": request.amount,
                "currency": request.currency,
                "merchant_name": request.merchant_name,
                "credential_type": request.credential_type,
                "created_at": request.created_at,
            }
        )
    return rows


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
