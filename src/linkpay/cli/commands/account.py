"""`shipping-address list`, `user-info retrieve`, `transactions list`, `sources list`,
`balances list`, `report`."""

from typing import Annotated, Any, Literal

from pydantic import Field

from linkpay.cli.parsing import validate_wire
from linkpay.cli.registry import CommandInput, Context, Flag, command

REPORT_TAGS = (
    "stripe_checkout",
    "captcha",
    "anti_bot_script",
    "cdn_block",
    "waf_block",
    "dns_block",
    "rate_limited",
    "login_required",
    "3ds_challenge",
    "page_inaccessible",
    "timeout",
    "site_error",
    "payment_declined",
    "other",
)
ReportTag = Literal[
    "stripe_checkout",
    "captcha",
    "anti_bot_script",
    "cdn_block",
    "waf_block",
    "dns_block",
    "rate_limited",
    "login_required",
    "3ds_challenge",
    "page_inaccessible",
    "timeout",
    "site_error",
    "payment_declined",
    "other",
]


class ShippingInput(CommandInput):
    """The person's shipping addresses."""


@command("shipping-address", "list", input=ShippingInput, read_only=True)
def shipping_addresses(inp: ShippingInput, ctx: Context) -> Any:
    return ctx.link().shipping_addresses.list()


class UserInfoInput(CommandInput):
    """Who the person is (email, name, phone)."""


@command("user-info", "retrieve", input=UserInfoInput, read_only=True)
def user_info(inp: UserInfoInput, ctx: Context) -> Any:
    return ctx.link().user_info.retrieve()


class TransactionsInput(CommandInput):
    """The person's transactions, newest first."""

    limit: int | None = Field(default=None, ge=1, le=100, description="At most this many (1-100)")
    starting_after: str | None = Field(default=None, description="Cursor: a transaction id")
    ending_before: str | None = Field(default=None, description="Cursor: a transaction id")
    start_date: Annotated[str | None, Flag(aliases=("--date-start",))] = Field(
        default=None,
        description="Only on or after this day, YYYY-MM-DD (also unix seconds or ISO 8601)",
    )
    end_date: Annotated[str | None, Flag(aliases=("--date-end",))] = Field(
        default=None,
        description="Only on or before this day, YYYY-MM-DD (also unix seconds or ISO 8601)",
    )
    category: str | None = Field(default=None, description="Only this category")
    origin: Literal["link", "external_connection"] | None = Field(
        default=None, description="Only this origin"
    )
    source: list[str] | None = Field(default=None, description="Repeatable: only these source ids")


@command("transactions", "list", input=TransactionsInput, read_only=True)
def transactions(inp: TransactionsInput, ctx: Context) -> Any:
    return ctx.link().transactions.list(
        limit=inp.limit,
        starting_after=inp.starting_after,
        ending_before=inp.ending_before,
        date_start=inp.start_date,
        date_end=inp.end_date,
        category=inp.category,
        origin=inp.origin,
        sources=inp.source,
    )


class PageInput(CommandInput):
    limit: int | None = Field(default=None, ge=1, le=100, description="At most this many (1-100)")
    starting_after: str | None = Field(default=None, description="Cursor: return items after it")
    ending_before: str | None = Field(default=None, description="Cursor: return items before it")


class SourcesInput(PageInput):
    """The person's funding sources (cards, bank accounts) the agent may draw on."""


@command("sources", "list", input=SourcesInput, read_only=True)
def sources(inp: SourcesInput, ctx: Context) -> Any:
    return ctx.link().sources.list(
        limit=inp.limit, starting_after=inp.starting_after, ending_before=inp.ending_before
    )


class BalancesInput(PageInput):
    """What the agent may still spend, per source: `current` is the most one spend
    request can ask for now; `limits` lists the rules behind it."""

    source: list[str] | None = Field(default=None, description="Repeatable: only these source ids")


@command("balances", "list", input=BalancesInput, read_only=True)
def balances(inp: BalancesInput, ctx: Context) -> Any:
    page = ctx.link().balances.list(
        sources=inp.source,
        limit=inp.limit,
        starting_after=inp.starting_after,
        ending_before=inp.ending_before,
    )
    if inp.source:  # also when the wallet does not filter by `sources[]` itself
        page.data = [balance for balance in page.data if balance.source_id in inp.source]
    return page


class ReportInput(CommandInput):
    """Tell the wallet how a purchase attempt at a merchant went (helps the person see
    what their agent ran into)."""

    domain: str = Field(min_length=1, description="Merchant domain, e.g. shop.example.com")
    outcome: Literal["success", "blocked", "abandoned"] = Field(
        description="success, blocked or abandoned"
    )
    spend_request_id: str = Field(min_length=1, description="The spend request involved (lsrq_…)")
    tag: list[ReportTag] | None = Field(
        default=None, description="Repeatable: " + ", ".join(REPORT_TAGS)
    )
    step: str | None = Field(
        default=None, max_length=500, description="Where in the flow it ended (e.g. checkout)"
    )
    freeform_context: str | None = Field(
        default=None, max_length=500, description="What happened, at most 500 characters"
    )


@command("report", input=ReportInput)
def report(inp: ReportInput, ctx: Context) -> Any:
    from linkpay.wire import AgentObservation

    body = validate_wire(
        AgentObservation,
        {
            "domain": inp.domain,
            "outcome": inp.outcome,
            "spend_request_id": inp.spend_request_id,
            "tags": inp.tag or [],
            "step": inp.step,
            "freeform_context": inp.freeform_context,
        },
    )
    answer = ctx.link().reports.create(body)
    return answer if isinstance(answer, dict) and answer else {"reported": True}
