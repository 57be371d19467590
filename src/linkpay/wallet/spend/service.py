"""The spend service: every rule of the spend request lifecycle, behind the functions
below. HTTP routes, web pages and admin commands only parse and render.

Each function works inside the caller's transaction (one `Session`, committed by the
caller) so that a state change, its event, the issued credential and the idempotency
record are one atomic unit. State changes use the compare-and-set `transition()`.
Side effects outside the database (notifying the person, waking long-polls) run only
after that transaction commits.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from linkpay.wallet.binding import (
    material_hash,
    material_hash_of_columns,
    normalize_line_items,
    normalize_totals,
)
from linkpay.wallet.errors import Conflict, Forbidden, InvalidRequest, RateLimited
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing.connections import choose_issuer
from linkpay.wallet.spend import policy_gate
from linkpay.wallet.spend.decisions import (
    approve_spend_request,
    cancel_spend_request,
    deny_spend_request,
    issue,
    load_for_user,
    pause_spending,
    resume_spending,
)
from linkpay.wallet.spend.duplicates import (
    find_duplicate,
    lock_identical_creates,
    retry_after_seconds,
)
from linkpay.wallet.spend.notices import notify_after_commit
from linkpay.wallet.spend.reads import get_for_user, list_for_user
from linkpay.wallet.spend.serialize import to_wire, to_wire_many, to_wire_new
from linkpay.wallet.spend.states import (
    EDITABLE_STATUSES,
    invalid_state,
    record_event,
    touch,
    transition,
)
from linkpay.wallet.spend.validation import (
    check_amount,
    check_credential_shape,
    check_total_matches,
    ensure_spending_allowed,
    invalid,
    load_person,
    parse_expires_at,
    resolve_payment_method,
)
from linkpay.wallet.spend.windows import credential_deadline, expire_if_due
from linkpay.wallet.store.models import SpendRequest, User, utcnow
from linkpay.wire import SpendRequestCreate, SpendRequestUpdate

__all__ = [
    "APPROVE_SCOPE",
    "approve_spend_request",
    "cancel_spend_request",
    "create_delegated_spend_request",
    "create_spend_request",
    "deny_spend_request",
    "get_for_user",
    "list_for_user",
    "load_for_user",
    "material_hash",
    "pause_spending",
    "request_approval",
    "resume_spending",
    "to_wire",
    "to_wire_many",
    "to_wire_new",
    "update_spend_request",
]

log = logging.getLogger("linkpay.wallet.spend")

APPROVE_SCOPE = "spend_requests:approve"


# --- the agent's side -----------------------------------------------------------------


def _validated_new_request(
    session: Session, principal: Any, body: SpendRequestCreate, now: datetime, settings: Any
) -> tuple[User, dict[str, Any]]:
    """Person-state rules shared by create and create_delegated; returns the columns."""
    if body.execution_method is not None:
        raise InvalidRequest(
            f"execution_method: {body.execution_method} is not supported by this wallet; "
            "create a card spend request (merchant_name and merchant_url) instead",
            code="unsupported_execution_method",
            param="execution_method",
        )
    # A share lock: creates run side by side, yet never across a concurrent pause.
    person = load_person(session, principal.user_id, share_lock=True)
    ensure_spending_allowed(person)
    check_amount(person, body.amount)
    method = resolve_payment_method(session, person, body.payment_details)
    expires_at = parse_expires_at(
        body.expires_at,
        now,
        client_id=principal.client_id,
        allowed_clients=settings.extended_expiry_clients if settings is not None else None,
    )
    columns = {
        "credential_type": body.credential_type,
        "network_id": body.network_id,
        "amount": body.amount,
        "currency": body.currency,
        "merchant_name": body.merchant_name,
        "merchant_url": body.merchant_url,
        "context": body.context,
        "line_items": normalize_line_items(body.line_items),
        "totals": normalize_totals(body.totals),
        "payment_method_id": method.id,
        "request_metadata": dict(body.metadata or {}),
        "expires_at": expires_at,
    }
    return person, columns


def create_spend_request(
    session: Session, principal: Any, body: SpendRequestCreate, *, settings: Any, notifier: Any
) -> SpendRequest:
    """A new request from an agent, `created` (or `pending_approval` with the person
    notified when `request_approval` is set). Refuses duplicates with a 429."""
    if body.approval_details is not None:
        raise invalid(
            "approval_details",
            "only accepted by create_delegated, with a token holding the approval scope",
        )
    now = utcnow()
    person, columns = _validated_new_request(session, principal, body, now, settings)
    material_hash_value = material_hash_of_columns(columns)
    # Only identical requests of one agent wait for each other (duplicate check + insert).
    lock_identical_creates(session, principal.token_family_id, material_hash_value, body.context)
    assessment = policy_gate.assess_new(session, person, principal.token_family_id, columns, now)
    duplicate = find_duplicate(
        session,
        user_id=principal.user_id,
        token_family_id=principal.token_family_id,
        material_hash_value=material_hash_value,
        context=body.context,
        now=now,
    )
    if duplicate is not None:
        retry_after = retry_after_seconds(duplicate, now)
        existing = to_wire(session, duplicate, settings=settings, now=now)
        raise RateLimited(
            f"An identical spend request ({duplicate.id}) is already waiting for the "
            "person; resume it instead of creating another",
            code="spend_request_rate_limited",
            retry_after=retry_after,
            duplicate_spend_request=existing.model_dump(mode="json", exclude_none=True),
        )
    initial = policy_gate.initial_values(assessment, columns, settings=settings, now=now)
    row = SpendRequest(
        id=new_id("lsrq"),
        user_id=principal.user_id,
        token_family_id=principal.token_family_id,
        **choose_issuer(session, test=body.test),
        approval_expires_at=now + timedelta(seconds=settings.approval_window_seconds),
        version=1,
        created_at=now,
        updated_at=now,
        **initial,
        **columns,
    )
    session.add(row)
    session.flush()
    decided = row.status != "created"
    record_event(
        session,
        row.id,
        from_status=None,
        to_status=row.status,
        actor="policy" if decided else "agent",
        note=assessment.decision.reason if decided else None,
        at=now,
    )
    policy_gate.after_insert(session, row, assessment, now)
    if row.status == "approved":
        issue(session, row, settings=settings)
    elif row.status == "created" and body.request_approval:
        row = _ask_person(session, row, settings=settings, notifier=notifier, now=now)
    return row


def check_spend_request(
    session: Session, principal: Any, body: SpendRequestCreate, settings: Any = None
) -> Any:
    """The dry run: the same checks as create, and what the policy would decide
    (without `settings`, an `expires_at` is checked for its range only)."""
    now = utcnow()
    person, columns = _validated_new_request(session, principal, body, now, settings)
    return policy_gate.dry_run(session, person, principal.token_family_id, columns, now)


def create_delegated_spend_request(
    session: Session, principal: Any, body: SpendRequestCreate, *, settings: Any
) -> SpendRequest:
    """A request the person already approved elsewhere (`approval_details` say how),
    for clients holding the approval scope: created `approved`, credential issued."""
    if APPROVE_SCOPE not in principal.scopes:
        raise Forbidden(f"This token lacks the {APPROVE_SCOPE!r} scope")
    if not body.approval_details:
        raise invalid("approval_details", "required for delegated spend requests")
    now = utcnow()
    _person, columns = _validated_new_request(session, principal, body, now, settings)
    valid_until = credential_deadline(now, settings, columns["expires_at"])
    row = SpendRequest(
        id=new_id("lsrq"),
        user_id=principal.user_id,
        token_family_id=principal.token_family_id,
        status="approved",
        **choose_issuer(session, test=body.test),
        approval_hash=material_hash_of_columns(columns),
        decided_at=now,
        credential_valid_until=valid_until,
        version=1,
        created_at=now,
        updated_at=now,
        **columns,
    )
    session.add(row)
    session.flush()
    policy_gate.hold_delegated(session, row, now)
    details = json.dumps(body.approval_details, sort_keys=True, default=str)
    record_event(
        session,
        row.id,
        from_status=None,
        to_status="approved",
        actor="person",
        note=f"delegated approval via {principal.client_id}: {details}",
        at=now,
    )
    issue(session, row, settings=settings)
    return row


def update_spend_request(
    session: Session,
    principal: Any,
    spend_request_id: str,
    body: SpendRequestUpdate,
    *,
    settings: Any,
) -> SpendRequest:
    """Change the purchase before the person decides. The approval page binds its
    decision to the hash it showed, so an update while pending is safe: an approval
    of the old content is refused."""
    now = utcnow()
    row = expire_if_due(session, load_for_user(session, principal.user_id, spend_request_id), now)
    if row.status not in EDITABLE_STATUSES:
        raise invalid_state(row.status, "update")
    given = {name for name in body.model_fields_set if getattr(body, name) is not None}
    if not given:
        return row
    person = load_person(session, principal.user_id)
    ensure_spending_allowed(person)
    values: dict[str, Any] = {}
    if "payment_details" in given:
        values["payment_method_id"] = resolve_payment_method(
            session, person, body.payment_details
        ).id
    if "amount" in given:
        values["amount"] = body.amount
    if "currency" in given:
        values["currency"] = body.currency
    if "merchant_url" in given:
        values["merchant_url"] = body.merchant_url
    if "line_items" in given:
        values["line_items"] = normalize_line_items(body.line_items)
    if "totals" in given:
        values["totals"] = normalize_totals(body.totals)
    if "profile_id" in given:  # the merchant's network profile: an SPT's network_id
        if row.credential_type != "shared_payment_token":
            raise invalid("profile_id", "only for shared_payment_token spend requests")
        values["network_id"] = body.profile_id
    # `merchant_id` is accepted (Link clients send it) and noted in the history; the
    # wallet identifies card merchants by merchant_name and merchant_url.
    amount = values.get("amount", row.amount)
    check_amount(person, amount)
    check_credential_shape(
        row.credential_type, row.merchant_name, values.get("merchant_url", row.merchant_url)
    )
    check_total_matches(amount, values.get("totals", row.totals or []))
    updated = touch(
        session,
        row.id,
        in_statuses=EDITABLE_STATUSES,
        expected_version=row.version,
        values=values,
        now=now,
    )
    if updated is None:
        raise Conflict(
            "The spend request changed at the same time; retry the update", code="invalid_state"
        )
    record_event(
        session,
        row.id,
        from_status=updated.status,
        to_status=updated.status,
        actor="agent",
        note="updated: " + ", ".join(sorted(given)),
        at=now,
    )
    return updated


def _ask_person(
    session: Session, row: SpendRequest, *, settings: Any, notifier: Any, now: datetime
) -> SpendRequest:
    """created → pending_approval (or a reminder while pending): a fresh approval
    window starts now, and the person is notified once the transaction commits."""
    window_end = now + timedelta(seconds=settings.approval_window_seconds)
    if row.status == "created":
        updated = transition(
            session,
            row.id,
            from_statuses=("created",),
            to_status="pending_approval",
            actor="agent",
            expected_version=row.version,
            now=now,
            values={"approval_expires_at": window_end},
        )
    else:
        updated = touch(
            session,
            row.id,
            in_statuses=("pending_approval",),
            expected_version=row.version,
            values={"approval_expires_at": window_end},
            now=now,
        )
    if updated is None:
        fresh = session.get(SpendRequest, row.id, populate_existing=True)
        raise invalid_state(fresh.status if fresh else "gone", "request approval for")
    notify_after_commit(session, updated, settings, notifier)
    return updated


def request_approval(
    session: Session, principal: Any, spend_request_id: str, *, settings: Any, notifier: Any
) -> SpendRequest:
    now = utcnow()
    row = expire_if_due(session, load_for_user(session, principal.user_id, spend_request_id), now)
    if row.status not in ("created", "pending_approval"):
        raise invalid_state(row.status, "request approval for")
    ensure_spending_allowed(load_person(session, principal.user_id))
    return _ask_person(session, row, settings=settings, notifier=notifier, now=now)
