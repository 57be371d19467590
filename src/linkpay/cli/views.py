"""How spend requests and credentials are shown: card data only when asked, a summary
when written to a file, and an `instruction` + `_next` that never mistakes a denied,
expired or canceled request for an approved one."""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any

    from linkpay.cli.context import Context

RETRIEVE = ("spend-request", "retrieve")
POLL_ARGS = {"interval": 2, "max_attempts": 300}

_STATUS_TEXT = {
    "created": "Created, not yet sent to the person for approval.",
    "pending_approval": "Waiting for the person to approve.",
    "approved": "APPROVED by the person.",
    "denied": "DENIED by the person. Do not retry unless the person asks you to.",
    "expired": "EXPIRED: it was not approved (or used) in time. Create a new request only "
    "if the person still wants this purchase.",
    "canceled": "CANCELED: the credential no longer works.",
    "succeeded": "The payment SUCCEEDED; the credential is used up.",
    "failed": "The payment FAILED; this credential cannot be used again.",
}


def spend_request_data(request: Any, *, include_card: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = request.model_dump(mode="json", exclude_none=True)
    if not include_card:
        data.pop("card", None)
    return data


def card_summary(card: Any, path: Any) -> dict[str, Any]:
    return {
        "brand": card.brand,
        "last4": card.number[-4:],
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "output_file": str(path),
    }


def status_instruction(request: Any) -> str:
    text = _STATUS_TEXT.get(request.status)
    if request.status == "requires_action":
        action = request.status_details.requires_action if request.status_details else None
        message = action.next_action.display_message if action else None
        return f"REQUIRES ACTION: {message or 'the person must act before this can continue'}."
    return text or f"Status: {request.status}."


def with_guidance(
    data: dict[str, Any], request: Any, ctx: Context, *, output_file: str | None = None
) -> dict[str, Any]:
    """Add `instruction` and `_next` for the agent, by status."""
    status = request.status
    sentence = status_instruction(request)
    hint: dict[str, Any] | None = None
    if status == "created":
        sentence += " Ask for approval next."
        hint = ctx.next_step(("spend-request", "request-approval"), id=request.id)
    elif status == "requires_action":
        sentence, hint = _requires_action(request, ctx)
    elif status == "pending_approval":
        if request.approval_url:
            sentence += (
                f" Show the person this link and ask them to approve: {request.approval_url} ."
            )
        sentence += " Then poll until it is decided."
        hint = ctx.next_step(RETRIEVE, id=request.id, **POLL_ARGS, output_file=output_file)
    elif status == "approved":
        if request.credential_type == "card" and "card" not in data:
            sentence += (
                " Fetch the card only when you are about to fill the checkout form, "
                "preferably into a file; use it once, for this merchant and amount only."
            )
            hint = ctx.next_step(
                RETRIEVE, id=request.id, include="card", output_file=f"./card-{request.id}.json"
            )
        elif request.credential_type == "shared_payment_token":
            sentence += " Pay the merchant's 402 endpoint with it (one payment only)."
            hint = ctx.next_step(("mpp", "pay"), url="URL", spend_request_id=request.id)
        else:
            sentence += " Use the card once, for this merchant and amount only; never store it."
    data["instruction"] = sentence
    if hint:
        data["_next"] = hint
    return data


def _requires_action(request: Any, ctx: Context) -> tuple[str, dict[str, Any] | None]:
    """The three resolutions: wait (auto_resume), or have the person act and then
    create a new spend request (now, or after they completed the action)."""
    details = request.status_details
    action = details.requires_action if details else None
    step = action.next_action if action else None
    url = step.action_url if step else None
    what = (step.display_message if step else None) or "the person must act first"
    kind = f" ({step.type})" if step else ""
    at = f" at {url}" if url else ""
    if step is not None and step.resolution == "auto_resume":
        return (
            f"REQUIRES ACTION{kind}: {what}. Show the person this link{at} and ask them to "
            "complete it; this request resumes by itself afterwards. Do not create a new "
            "spend request; poll until the status changes.",
            ctx.next_step(RETRIEVE, id=request.id, **POLL_ARGS),
        )
    when = (
        " after they have completed it"
        if step is not None and step.resolution == "create_new_spend_request_after_completion"
        else ""
    )
    return (
        f"REQUIRES ACTION{kind}: {what}. Ask the person to complete it{at}; this request "
        f"will not continue. Create a new spend request{when}.",
        None,
    )
