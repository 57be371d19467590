"""`payment-methods list|add`."""

from typing import Any

from linkpay.cli.registry import CommandInput, Context, command

ADD_PAGE_PATH = "/payment-methods"  # the wallet web app's page


class ListInput(CommandInput):
    """The person's payment methods (masked): full objects with nested card_details /
    bank_account_details, plus flat brand, last4 and expiry for convenience."""


@command("payment-methods", "list", input=ListInput, read_only=True)
def list_methods(inp: ListInput, ctx: Context) -> Any:
    rows = []
    for method in ctx.link().payment_methods.list():
        card = method.card_details
        bank = method.bank_account_details
        flat = {
            "brand": card.brand if card else None,
            "last4": card.last4 if card else (bank.last4 if bank else None),
            "exp_month": card.exp_month if card else None,
            "exp_year": card.exp_year if card else None,
            "bank_name": bank.bank_name if bank else None,
        }
        row = method.model_dump(mode="json", exclude_none=True)
        row.update({key: value for key, value in flat.items() if value is not None})
        rows.append(row)
    return rows


class AddInput(CommandInput):
    """Where the person adds a card or bank account (in their wallet, never here)."""


@command("payment-methods", "add", input=AddInput, read_only=True)
def add(inp: AddInput, ctx: Context) -> Any:
    url = ctx.link().http.api_base_url + ADD_PAGE_PATH
    if ctx.human:
        from linkpay.cli.output.tty import show_link

        show_link(url, "Add a payment method here", ctx.stderr)
    return {
        "url": url,
        "instruction": "Ask the person to open this page in their wallet and add a payment "
        "method; card numbers are never typed into link-cli.",
        "_next": ctx.next_step(("payment-methods", "list")),
    }
