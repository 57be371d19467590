"""`shipping-address list`, `user-info retrieve`, `transactions list`, `report`."""

from typing import Annotated, Any, Literal

from pydantic import Field

from linkpay.cli.parsing import validate_wire
from linkpay.cli.registry import CommandInput, Context, Flag, command


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
    date_start: str | None = Field(default=None, description="ISO date or unix seconds")
    date_end: str | None = Field(default=None, description="ISO date or unix seconds")
    category: str | None = Field(default=None, description="Only this category")
    origin: Literal["link", "external_connection"] | None = Field(
        default=None, description="Only this origin"
    )
    source: list[str] | None = Field(default=None, description="Repeatable: only these source ids")


@command("transactions", "list", input=TransactionsInput, read_only=True)
def transactions(inp: TransactionsInput, ctx: Context) -> Any:
    page = ctx.link().transactions.list(
        limit=inp.limit,
        starting_after=inp.starting_after,
        ending_before=inp.ending_before,
        date_start=inp.date_start,
        date_end=inp.date_end,
        category=inp.category,
        origin=inp.origin,
        sources=inp.source,
    )
    return page


class ReportInput(CommandInput):
    """Tell the wallet how a purchase attempt at a merchant went (helps the person see
    what their agent ran into)."""

    domain: str = Field(description="Merchant domain, e.g. shop.example.com")
    outcome: Literal["success", "blocked", "abandoned"] = Field(
        description="success, blocked or abandoned"
    )
    spend_request_id: str | None = Field(default=None, description="The spend request involved")
    tag: Annotated[list[str] | None, Flag()] = Field(default=None, description="Repeatable tag")
    step: str | None = Field(default=None, description="Where it ended (e.g. checkout)")
    freeform_context: str | None = Field(
        default=None, description="What happened, ≤ 500 characters"
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
