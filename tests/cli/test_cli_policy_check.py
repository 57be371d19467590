"""`link-cli spend-request check` against a real wallet: the same flags as create,
the policy's answer and figures, nothing created; and `balances list` shows budgets."""

from __future__ import annotations

from typing import Any

from cli_helpers import create_args


def test_check_is_a_dry_run(wallet: Any, logged_in: str, cli: Any) -> None:
    from linkpay.wallet.policy import edit

    with wallet.session() as session:
        edit.set_rules(
            session,
            logged_in,
            [{"id": "mugs", "action": "auto_approve", "when": {"merchants": ["mugs.example"]}}],
            actor="test",
            confirmed_by="test",
        )
        edit.set_budgets(
            session,
            logged_in,
            [{"id": "daily", "period": "day", "amount": 2000}],
            actor="test",
            confirmed_by="test",
        )
    args = create_args("--format", "json")
    args[1] = "check"
    answer = cli(*args)
    assert answer.code == 0, answer.stderr
    check = answer.json()
    assert check["outcome"] == "auto_approve" and check["rule"] == "mugs"
    assert check["budgets"][0]["remaining"] == 2000
    refused = cli(*[a if a != "1500" else "2500" for a in args])
    assert refused.code == 0 and refused.json()["outcome"] == "refused"
    assert refused.json()["refusal"]["code"] == "budget_exceeded"
    listed = cli("spend-request", "list", "--format", "json")
    assert listed.code == 0 and "lsrq_" not in listed.stdout  # nothing was created
    balances = cli("balances", "list", "--format", "json")
    assert balances.code == 0, balances.stderr
    assert "budget_day" in balances.stdout
