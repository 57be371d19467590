"""The person's rules page (`/rules`): limits, rules and budgets in plain words; a
plain form for the common rule shapes and, as "advanced", the rule list as JSON; a
preview of the last 30 days under the proposed rules; saving with a fresh
confirmation when a change loosens anything. Agent tokens get 403 here."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from linkpay.text import clean_text
from linkpay.wallet.deps import DbDep, SettingsDep
from linkpay.wallet.policy import preview, rule_form
from linkpay.wallet.policy.figures import budget_figures
from linkpay.wallet.policy.limits import LABELS, MONEY_LIMITS
from linkpay.wallet.policy.rules import parse_rules
from linkpay.wallet.policy.service import load_policy
from linkpay.wallet.policy.words import describe_rule, money
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.models import User, utcnow
from linkpay.wallet.store.policy_models import WalletPolicy
from linkpay.wallet.web.deps import PersonDep, refuse_agent_tokens
from linkpay.wallet.web.http import WebRoute, redirect, render
from linkpay.wallet.web.pages_confirm import parse_list, save_change
from linkpay.wallet.web.sessions import Person


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]
router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(refuse_agent_tokens)]
)
NOTICES = {"saved": "Saved.", "confirmed": "Confirmed and saved."}


def _agent_names(db: Any, user_id: str) -> dict[str, str]:
    from sqlalchemy import select

    from linkpay.wallet.store.models import OAuthToken

    rows = db.execute(
        select(OAuthToken.family_id, OAuthToken.connection_label, OAuthToken.client_id).where(
            OAuthToken.user_id == user_id
        )
    ).all()
    # Connection labels come from agents: untrusted (escaped in the page as well).
    return {family: clean_text(label or client)[:80] for family, label, client in rows}


def _page(request: Request, db: Any, person: Any, **extra: Any) -> dict[str, Any]:
    user = db.get(User, person.user_id)
    policy = load_policy(db, user)
    row = db.get(WalletPolicy, person.user_id)
    names = _agent_names(db, person.user_id)
    limits = [
        {
            "name": name,
            "label": LABELS[name],
            "value": value,
            "shown": money(value) if name in MONEY_LIMITS else str(value),
            "field": f"{value / 100:.2f}" if name in MONEY_LIMITS else str(value),
            "money": name in MONEY_LIMITS,
        }
        for name, value in policy.limits.as_dict().items()
    ]
    return {
        "title": "Rules",
        "limits": limits,
        "rules": [{"id": rule.id, "words": describe_rule(rule, names)} for rule in policy.rules],
        "budgets": budget_figures(db, person.user_id, policy, utcnow(), agent_names=names),
        "timezone": policy.timezone,
        "rules_json": extra.pop("rules_json", None)
        or json.dumps(row.rules if row else [], indent=2),
        "budgets_json": extra.pop("budgets_json", None)
        or json.dumps(row.budgets if row else [], indent=2),
        "agents": names,
        "rule_fields": extra.pop("rule_fields", None) or {"position": "first"},
        **extra,
    }


@router.get("/rules")
def rules_page(
    request: Request, person: PersonDep, db: DbDep, notice: str | None = None
) -> Response:
    context = _page(request, db, person, notice=NOTICES.get(notice or ""))
    return render(request, "rules.html", context)


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg')}"
    return str(exc)


def _preview(request: Request, db: Any, person: Person, rules_json: str, **extra: Any) -> Response:
    """The page with the proposed rules in plain words and the last 30 days replayed
    under them; nothing is saved."""
    user = db.get(User, person.user_id)
    assert user is not None  # the signed-in person exists
    policy = load_policy(db, user)
    names = _agent_names(db, person.user_id)
    try:
        proposed = parse_rules(parse_list(rules_json))
    except (ValueError, ValidationError) as exc:
        context = _page(request, db, person, rules_json=rules_json, error=_problem(exc), **extra)
        return render(request, "rules.html", context, status_code=400)
    replayed = preview.replay(db, person.user_id, proposed, policy.tz, utcnow())
    context = _page(
        request,
        db,
        person,
        rules_json=rules_json,
        proposed=[{"id": r.id, "words": describe_rule(r, names)} for r in proposed],
        replayed=replayed,
        replay_summary=preview.summary(replayed),
        **extra,
    )
    return render(request, "rules.html", context)


@router.post("/rules/preview")
def rules_preview(
    request: Request,
    person: PersonDep,
    db: DbDep,
    rules_json: Annotated[str, Form()] = "[]",
) -> Response:
    return _preview(request, db, person, rules_json, advanced=True)


def _stored_rules(db: Any, user_id: str) -> list[dict[str, Any]]:
    row = db.get(WalletPolicy, user_id)
    return [dict(rule) for rule in (row.rules if row else [])]


@router.post("/rules/add")
def add_rule(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep, form: FormDep
) -> Response:
    """The plain form: one rule of a common shape, added first or last, then previewed
    or saved like the JSON editor's list (the same validation and confirmation)."""
    fields = {
        name: str(form.get(f"rule_{name}", ""))[:500]
        for name in ("action", "merchants", "amount_at_most", "per_day", "agent", "position")
    }
    current = _stored_rules(db, person.user_id)
    try:
        rule = rule_form.rule_from_fields(
            fields,
            taken_ids={str(r.get("id")) for r in current},
            agents=set(_agent_names(db, person.user_id)),
        )
        proposed = rule_form.with_rule(current, rule, first=fields["position"] != "last")
        parse_rules(proposed)
    except (ValueError, ValidationError) as exc:
        context = _page(request, db, person, error=_problem(exc), rule_fields=fields)
        return render(request, "rules.html", context, status_code=400)
    payload = json.dumps(proposed)
    if form.get("intent") == "preview":
        return _preview(request, db, person, payload, rule_fields=fields)
    return _save(request, db, person, settings, "rules", payload)


@router.post("/rules/remove")
def remove_rule(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    rule_id: Annotated[str, Form()] = "",
) -> Response:
    remaining = rule_form.without_rule(_stored_rules(db, person.user_id), rule_id[:40])
    return _save(request, db, person, settings, "rules", json.dumps(remaining))


def _save(
    request: Request,
    db: Session,
    person: Person,
    settings: Settings,
    what: str,
    payload: str,
) -> Response:
    """Apply one change; a loosening without a fresh confirmation shows how to give one."""
    try:
        return save_change(request, db, person, settings, what, payload)
    except (ValueError, ValidationError) as exc:
        fields = {f"{what}_json": payload, "advanced": True} if what != "limits" else {}
        context = _page(request, db, person, error=_problem(exc), **fields)
        return render(request, "rules.html", context, status_code=400)


@router.post("/rules")
def save_rules(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    rules_json: Annotated[str, Form()] = "[]",
) -> Response:
    return _save(request, db, person, settings, "rules", rules_json)


@router.post("/rules/budgets")
def save_budgets(
    request: Request,
    person: PersonDep,
    db: DbDep,
    settings: SettingsDep,
    budgets_json: Annotated[str, Form()] = "[]",
) -> Response:
    return _save(request, db, person, settings, "budgets", budgets_json)


@router.post("/rules/limits")
def save_limits(
    request: Request, person: PersonDep, db: DbDep, settings: SettingsDep, form: FormDep
) -> Response:
    changes: dict[str, int] = {}
    for name in LABELS:
        raw = str(form.get(name, "")).strip().replace("$", "").replace(",", "")
        if not raw:
            continue
        try:
            changes[name] = round(float(raw) * 100) if name in MONEY_LIMITS else int(raw)
        except ValueError:
            return redirect("/rules?notice=")
    return _save(request, db, person, settings, "limits", json.dumps(changes))
