"""`spend-request check`: the dry run. Same flags as `create`; nothing is created.
Answers whether the request would be approved automatically, need the person's
approval or be refused (and why), with what is left of each limit and budget."""

from typing import Any

from linkpay.cli.commands.spend_request import CreateInput, create_body
from linkpay.cli.registry import Context, command


class CheckInput(CreateInput):
    """Dry run of `spend-request create` with the same flags: would the person's rules
    approve it automatically, ask the person, or refuse it, and why? Also shows the
    remaining limits and budgets. Nothing is created."""


@command("spend-request", "check", input=CheckInput)
def check(inp: CheckInput, ctx: Context) -> Any:
    answer = ctx.link().spend_requests.check(create_body(inp))
    return answer.model_dump(mode="json", exclude_none=True)
