"""Handing a spend request's credential to the agent: checks on `--output-file` before
any network call, the file (same shape as upstream's: the request's identity plus the
card) and what stdout shows instead, and polling until a decision."""

from __future__ import annotations

from linkpay.cli.context import CommandError, Context
from linkpay.cli.views import (
    POLL_ARGS,
    RETRIEVE,
    card_summary,
    spend_request_data,
    status_instruction,
    with_guidance,
)

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any

MCP_MAX_WAIT_SECONDS = 25  # tools never block on a person for long


def check_output_path(path: str | None, force: bool) -> None:
    """Fail before any network call when --output-file cannot be written. An empty
    path (an unset shell variable) is an error: card data never falls back to stdout."""
    if path is None:
        return
    if not path.strip():
        raise CommandError(
            "INVALID_INPUT",
            "--output-file is empty (an unset variable?); give a file path. Card data is "
            "never printed instead.",
        )
    from linkpay.cli.output.files import check_writable

    check_writable(path, force=force)


def credential_file_data(request: Any) -> dict[str, Any]:
    return {
        "spend_request_id": request.id,
        "merchant_name": request.merchant_name,
        "merchant_url": request.merchant_url,
        "context": request.context,
        "created_at": request.created_at,
        "card": request.card.model_dump(mode="json", exclude_none=True),
    }


def finish(
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

        path = write_secret_file(output_file, credential_file_data(request), force=force)
        data["card"] = card_summary(request.card, path)
        data["card_output_file"] = str(path)
        data["instruction"] = (
            status_instruction(request) + f" The full card is in {path} (mode 0600). Use it once "
            "for this merchant and amount, then delete the file."
        )
        return data
    return with_guidance(data, request, ctx, output_file=output_file)


def poll(
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
    from linkpay.wire import SpendRequest, is_poll_terminal

    fetch_include = tuple(sorted(set(include) | ({"card"} if output_file else set())))
    if ctx.mode == "mcp":
        timeout = min(timeout, MCP_MAX_WAIT_SECONDS)
    spinner = None
    if ctx.human:
        from linkpay.cli.output.tty import spinner as make_spinner

        spinner = make_spinner("Waiting for the person to approve…", ctx.stderr)
        spinner.__enter__()

    def on_change(request: SpendRequest) -> None:
        if ctx.streaming and ctx.emit is not None and not is_poll_terminal(request):
            ctx.emit(spend_request_data(request))
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
        last = exc.last
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
    return finish(request, ctx, include, output_file, force)
