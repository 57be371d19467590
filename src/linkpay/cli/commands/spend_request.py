"""`spend-request create|update`: asking the person for one purchase.

`--request-approval` is on by default (upstream's default): the person is notified at
once. `--no-request-approval` only creates it. Nested inputs come as `key:value` text
on the command line and as text or objects from MCP callers."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from linkpay.cli.credentials import check_output_path, finish, poll
from linkpay.cli.parsing import (
    as_list,
    parse_line_items,
    parse_metadata,
    parse_totals,
    validate_wire,
)
from linkpay.cli.registry import CommandError, CommandInput, Context, Flag, command
from linkpay.cli.views import POLL_ARGS, RETRIEVE, spend_request_data, with_guidance

MIN_CONTEXT_LENGTH = 100  # wire.MIN_CONTEXT_LENGTH; not imported: start-up stays light
Nested = Annotated[list[str | dict[str, Any]] | None, Flag(cli_type=list[str] | None)]
LineItemFlag = Field(
    default=None,
    description="Repeatable. key:value pairs separated by commas (or an object); name "
    "required; keys: name, quantity, unit_amount (cents), description, sku, url, image_url, "
    "product_url. Example: name:Coffee mug,quantity:2,unit_amount:1500",
)
TotalFlag = Field(
    default=None,
    description="Repeatable. type:…,amount:…[,display_text:…] (or an object); type is one of "
    "subtotal, tax, total, items_base_amount, items_discount, discount, fulfillment, shipping, "
    "fee, gift_wrap, tip, store_credit. A total of type 'total' must equal --amount.",
)
OutputFile = Field(
    default=None,
    description="Write the full card to this new file (mode 0600; symlinks refused anywhere "
    "on the path); stdout then shows only brand, last4, expiry and card_output_file",
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
    execution_method: Literal["link_pay_token"] | None = Field(
        default=None,
        description="link_pay_token: a merchant-bound credential (needs --merchant-account-id); "
        "wallets without it answer unsupported_execution_method",
    )
    merchant_account_id: str | None = Field(
        default=None, description="Merchant account id; required with --execution-method"
    )
    amount: int = Field(description="Amount in integer cents (e.g. 2599 for $25.99); at most 50000")
    currency: str = Field(default="usd", description="3-letter ISO currency code (any case)")
    merchant_name: Annotated[str | None, Flag(aliases=("-m",))] = Field(
        default=None, description="Merchant name (required for card)"
    )
    merchant_url: str | None = Field(default=None, description="Merchant URL (required for card)")
    context: str = Field(
        min_length=MIN_CONTEXT_LENGTH,
        description="At least 100 characters telling the person what is being bought and "
        "why; they read this before approving",
    )
    line_item: Nested = LineItemFlag
    total: Nested = TotalFlag
    metadata: Nested = Field(default=None, description="Repeatable key:value (or an object)")
    expires_at: int | None = Field(default=None, description="Unix timestamp (seconds).")
    request_approval: Annotated[bool, Flag(negatable=True)] = Field(
        default=True,
        description="Notify the person now and (on a terminal) wait for the decision; "
        "--no-request-approval only creates it",
    )
    test: bool = Field(default=False, description="Test mode (test credentials only)")
    approve: Annotated[bool, Flag(hidden=True)] = Field(
        default=False, description="Create already approved (delegated approval scope only)"
    )
    approval_detail: Annotated[
        str | dict[str, Any] | None, Flag(hidden=True, cli_type=str | None)
    ] = Field(default=None, description="With --approve: the approval details, JSON object")
    output_file: str | None = OutputFile
    force: bool = Force

    _lists = field_validator("line_item", "total", "metadata", mode="before")(as_list)


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


def _check_execution_method(inp: CreateInput) -> None:
    """Upstream's local rules for a merchant-bound (link_pay_token) request."""
    if inp.execution_method is None and inp.merchant_account_id is None:
        return
    problem = None
    if inp.execution_method != "link_pay_token":
        problem = "--execution-method link_pay_token is required with --merchant-account-id"
    elif not (inp.merchant_account_id or "").strip():
        problem = "--merchant-account-id is required with --execution-method link_pay_token"
    elif inp.credential_type != "card":
        problem = "--credential-type must be card with --execution-method link_pay_token"
    elif inp.network_id or inp.test or inp.approve:
        problem = "--network-id, --test and --approve cannot be used with --execution-method"
    elif inp.merchant_name or inp.merchant_url:
        problem = (
            "--merchant-name and --merchant-url cannot be used with --execution-method; the "
            "merchant comes from --merchant-account-id"
        )
    if problem:
        raise CommandError("INVALID_INPUT", problem)


def _approval_details(value: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    import json

    try:
        parsed = json.loads(value)
    except ValueError:
        raise CommandError("INVALID_INPUT", "--approval-detail: not valid JSON") from None
    if not isinstance(parsed, dict):
        raise CommandError("INVALID_INPUT", "--approval-detail: expected a JSON object")
    return parsed


def create_body(inp: CreateInput) -> Any:
    """The wire body of `create` (also what `check` sends): local rules first."""
    from linkpay.wire import SpendRequestCreate

    _check_execution_method(inp)
    body = {
        "payment_details": inp.payment_method_id,
        "credential_type": inp.credential_type,
        "network_id": inp.network_id,
        "execution_method": inp.execution_method,
        "merchant_account_id": inp.merchant_account_id,
        "amount": inp.amount,
        "currency": inp.currency.lower(),
        "merchant_name": inp.merchant_name,
        "merchant_url": inp.merchant_url,
        "context": inp.context,
        "line_items": parse_line_items(inp.line_item),
        "totals": parse_totals(inp.total),
        "metadata": parse_metadata(inp.metadata),
        "expires_at": inp.expires_at,
        "request_approval": inp.request_approval or None,
        "test": inp.test or None,
        "approval_details": _approval_details(inp.approval_detail),
    }
    return validate_wire(SpendRequestCreate, {k: v for k, v in body.items() if v is not None})


@command("spend-request", "create", input=CreateInput)
def create(inp: CreateInput, ctx: Context) -> Any:
    wire_body = create_body(inp)
    check_output_path(inp.output_file, inp.force)

    from linkpay.client.errors import ApiError

    try:
        spend_requests = ctx.link().spend_requests
        if inp.approve:
            request = spend_requests.create_delegated(wire_body)
        else:
            request = spend_requests.create(wire_body)
    except ApiError as exc:
        if exc.code == "spend_request_rate_limited":
            raise _duplicate_error(exc, ctx) from None
        raise _in_flag_terms(exc, ctx) from None
    if ctx.human and inp.request_approval and request.approval_url:
        from linkpay.cli.output.tty import show_link

        show_link(request.approval_url, "Ask the person to approve here", ctx.stderr)
        return poll(
            ctx,
            request.id,
            interval=2.0,
            max_attempts=None,
            timeout=600.0,
            include=(),
            output_file=inp.output_file,
            force=inp.force,
        )
    if inp.output_file and request.card is not None:
        return finish(request, ctx, (), inp.output_file, inp.force)
    return with_guidance(spend_request_data(request), request, ctx, output_file=inp.output_file)


class UpdateInput(CommandInput):
    """Change a spend request before it is approved."""

    id: Annotated[str, Flag(positional=True)] = Field(
        min_length=1, max_length=200, description="Spend request id (lsrq_…)"
    )
    payment_method_id: str | None = Field(default=None, description="Payment method id (csmrpd_…)")
    amount: int | None = Field(default=None, description="Amount in integer cents")
    merchant_url: str | None = Field(default=None, description="Merchant URL")
    profile_id: str | None = Field(
        default=None, description="Merchant network profile id (shared_payment_token requests)"
    )
    merchant_id: str | None = Field(default=None, description="Merchant id")
    currency: str | None = Field(default=None, description="3-letter ISO currency code")
    line_item: Nested = LineItemFlag
    total: Nested = TotalFlag

    _lists = field_validator("line_item", "total", mode="before")(as_list)


@command("spend-request", "update", input=UpdateInput)
def update(inp: UpdateInput, ctx: Context) -> Any:
    from linkpay.wire import SpendRequestUpdate

    body = {
        "merchant_url": inp.merchant_url,
        "amount": inp.amount,
        "currency": inp.currency.lower() if inp.currency else None,
        "payment_details": inp.payment_method_id,
        "profile_id": inp.profile_id,
        "merchant_id": inp.merchant_id,
        "line_items": parse_line_items(inp.line_item),
        "totals": parse_totals(inp.total),
    }
    body = {k: v for k, v in body.items() if v is not None}
    if not body:
        raise CommandError(
            "INVALID_INPUT",
            "Nothing to update: give at least one of --merchant-url, --amount, --currency, "
            "--payment-method-id, --profile-id, --merchant-id, --line-item, --total",
        )
    from linkpay.client.errors import ApiError

    try:
        request = ctx.link().spend_requests.update(inp.id, validate_wire(SpendRequestUpdate, body))
    except ApiError as exc:
        raise _in_flag_terms(exc, ctx) from None
    return with_guidance(spend_request_data(request), request, ctx)
