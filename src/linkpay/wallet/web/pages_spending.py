"""The spending page (`/spending`): server-rendered SVG charts of the last 30 days —
per day, per agent, per merchant — the budgets left, and how many approvals the
rules made versus the person."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from linkpay.wallet.deps import DbDep
from linkpay.wallet.policy import spending
from linkpay.wallet.policy.figures import budget_figures
from linkpay.wallet.policy.service import load_policy
from linkpay.wallet.store.models import User, utcnow
from linkpay.wallet.web.charts import category_bars, day_bars
from linkpay.wallet.web.deps import PersonDep
from linkpay.wallet.web.http import WebRoute, render
from linkpay.wallet.web.pages_policy import _agent_names

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/spending")
def spending_page(request: Request, person: PersonDep, db: DbDep) -> Response:
    now = utcnow()
    user = db.get(User, person.user_id)
    assert user is not None  # the signed-in person exists
    policy = load_policy(db, user)
    names = _agent_names(db, person.user_id)
    days = spending.per_day(db, person.user_id, policy.tz, now)
    agents = spending.per_agent(db, person.user_id, now)
    merchants = spending.per_merchant(db, person.user_id, now)
    budgets = budget_figures(db, person.user_id, policy, now, agent_names=names)
    who = spending.deciders(db, person.user_id, now)
    total = sum(amount for _day, amount in days)
    context = {
        "title": "Spending",
        "total": total,
        "per_day": day_bars(days, title="Spent or held per day, last 30 days"),
        "per_agent": category_bars(
            [(names.get(key or "", key or "unknown agent"), value, None) for key, value in agents],
            title="Per agent, last 30 days",
        )
        if agents
        else None,
        "per_merchant": category_bars(
            [(key or "unknown", value, None) for key, value in merchants],
            title="Per merchant, last 30 days",
        )
        if merchants
        else None,
        "budgets": category_bars(
            [(b["description"], b["used"], b["amount"]) for b in budgets],
            title="Budgets used this period",
        )
        if budgets
        else None,
        "deciders": category_bars(
            [
                ("Approved by your rules", who["policy"], None),
                ("Approved by you", who["person"], None),
            ],
            title="Who approved, last 30 days",
            unit="count",
        ),
        "who": who,
    }
    return render(request, "spending.html", context)
