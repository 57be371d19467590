"""`link-wallet policy …`: the person's limits, rules and budgets from the shell.

A change that loosens the policy (a higher limit or budget, a rule that could approve
more) is refused unless `--confirm` says the person means it; it is then recorded as
confirmed from the wallet's host shell. Tightening needs no confirmation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError

SHELL = "shell"


def _json_list(source: str) -> list[Any]:
    """A JSON list from a file path, or `-` for stdin."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        value = json.loads(text)
    except (OSError, ValueError) as exc:
        raise AdminError("INVALID_INPUT", f"{source}: not a readable JSON file ({exc})") from exc
    if not isinstance(value, list):
        raise AdminError("INVALID_INPUT", f"{source}: expected a JSON list")
    return value


def _apply(ctx: AdminContext, email: str | None, confirm: bool, change: Any) -> dict[str, Any]:
    """Run one edit as the person; map refusals to {code, message}."""
    from pydantic import ValidationError

    from linkpay.wallet.policy import edit

    try:
        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            done = change(db, user, SHELL if confirm else None)
            return {
                "user": user.email,
                "changed": done.what,
                "version": done.version,
                "loosening": done.loosening,
            }
    except edit.ConfirmationRequired as exc:
        raise AdminError(
            "CONFIRMATION_REQUIRED", f"{exc}; run again with --confirm if the person means it"
        ) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise AdminError("INVALID_INPUT", f"{where}: {first.get('msg')}") from exc
    except ValueError as exc:
        raise AdminError("INVALID_INPUT", str(exc)) from exc


def _show(ctx: AdminContext, email: str | None) -> dict[str, Any]:
    from linkpay.wallet.policy.figures import budget_figures
    from linkpay.wallet.policy.limits import describe_limit
    from linkpay.wallet.policy.service import load_policy
    from linkpay.wallet.policy.words import describe_rule
    from linkpay.wallet.store.models import utcnow

    with ctx.session() as db:
        user = ctx.resolve_user(db, email)
        policy = load_policy(db, user)
        return {
            "user": user.email,
            "timezone": policy.timezone,
            "version": policy.version,
            "limits": {
                name: {"value": value, "reads": describe_limit(name, value)}
                for name, value in policy.limits.as_dict().items()
            },
            "rules": [
                {"position": n, "id": rule.id, "reads": describe_rule(rule)}
                for n, rule in enumerate(policy.rules, start=1)
            ],
            "budgets": [
                {key: figure[key] for key in ("id", "description", "used", "remaining")}
                for figure in budget_figures(db, user.id, policy, utcnow())
            ],
            "default": "Anything no rule matches needs the person's approval",
        }


def register(app: App, ctx: AdminContext) -> None:
    group = App(name="policy", help="The person's limits, rules and budgets.")
    app.command(group)

    @group.command(name="show")
    def show(*, email: str | None = None) -> dict[str, Any]:
        """Limits, rules and budgets, each in plain words.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        return _show(ctx, email)

    @group.command(name="set-rules")
    def set_rules(source: str, /, *, email: str | None = None, confirm: bool = False) -> Any:
        """Replace the ordered rule list with a JSON list (file path, or - for stdin).

        Parameters
        ----------
        source
            JSON file: [{"id", "action", "when": {...}}, ...] (see docs/policy.md).
        email
            Whose wallet (default: the owner, or the only person).
        confirm
            The person confirms a change that loosens the rules.
        """
        from linkpay.wallet.policy import edit

        raw = _json_list(source)
        return _apply(
            ctx,
            email,
            confirm,
            lambda db, user, by: edit.set_rules(db, user.id, raw, actor=SHELL, confirmed_by=by),
        )

    @group.command(name="set-budgets")
    def set_budgets(source: str, /, *, email: str | None = None, confirm: bool = False) -> Any:
        """Replace the budgets with a JSON list (file path, or - for stdin).

        Parameters
        ----------
        source
            JSON file: [{"id", "period": day|week|month, "amount", "scope", "target"}].
        email
            Whose wallet (default: the owner, or the only person).
        confirm
            The person confirms a change that raises or removes a budget.
        """
        from linkpay.wallet.policy import edit

        raw = _json_list(source)
        return _apply(
            ctx,
            email,
            confirm,
            lambda db, user, by: edit.set_budgets(db, user.id, raw, actor=SHELL, confirmed_by=by),
        )

    @group.command(name="set-limit")
    def set_limit(
        name: str, value: int, /, *, email: str | None = None, confirm: bool = False
    ) -> Any:
        """Set one limit (per_request, per_day, per_30_days in cents; max_active,
        max_approved_unused, creates_per_hour, creates_per_60_days as counts).

        Parameters
        ----------
        name
            Which limit.
        value
            The new value, within the operator's maximum.
        email
            Whose wallet (default: the owner, or the only person).
        confirm
            The person confirms raising a limit.
        """
        from linkpay.wallet.policy import edit
        from linkpay.wallet.policy.limits import operator_maximums

        maximum = operator_maximums(ctx.settings())
        return _apply(
            ctx,
            email,
            confirm,
            lambda db, user, by: edit.set_limits(
                db, user.id, {name: value}, maximum=maximum, actor=SHELL, confirmed_by=by
            ),
        )

    @group.command(name="set-timezone")
    def set_timezone(name: str, /, *, email: str | None = None) -> Any:
        """The time zone days, weeks, months and rule time windows are counted in.

        Parameters
        ----------
        name
            An IANA zone such as Europe/Paris.
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet.policy import edit

        return _apply(
            ctx,
            email,
            False,
            lambda db, user, _by: edit.set_timezone(db, user.id, name, actor=SHELL),
        )

    @group.command(name="add-member")
    def add_member(member: str, /, *, role: str = "approver", email: str | None = None) -> Any:
        """Share the wallet with another person (created if new): owner, approver
        (decides purchases) or viewer (reads).

        Parameters
        ----------
        member
            The other person's email.
        role
            owner, approver or viewer.
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet import accounts
        from linkpay.wallet.policy.quorum import add_member as share

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            other = accounts.find_user_by_email(db, member) or accounts.create_user(
                db, email=member
            )
            try:
                share(db, user.id, other.id, role)
            except ValueError as exc:
                raise AdminError("INVALID_INPUT", str(exc)) from exc
            return {"wallet": user.email, "member": other.email, "role": role}

    @group.command(name="history")
    def history(*, email: str | None = None) -> list[dict[str, Any]]:
        """Who changed the policy, when, and how a loosening was confirmed.

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        """
        from linkpay.wallet.policy import edit

        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            return [
                {
                    "at": change.created_at.isoformat(),
                    "actor": change.actor,
                    "what": change.what,
                    "loosening": change.loosening,
                    "confirmed_by": change.confirmed_by,
                }
                for change in edit.history(db, user.id)
            ]
