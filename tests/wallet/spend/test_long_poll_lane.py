"""The long-poll lane (`api.long_poll_lane`): which requests it takes, and that every
answer it does not give itself is still the route's own (401, 403, 404, 400, 422, the
current state). The woken answers themselves are covered by test_longpoll.py, whose
long-polls all go through the lane."""

from __future__ import annotations

from typing import Any

import pytest
from spend_helpers import approved, pending

from linkpay.wallet.api.long_poll_lane import LongPoll, long_poll_request
from linkpay.wallet.auth.tokens import revoke_token

ID = "lsrq_abc123"


def _scope(query: str, *, path: str = f"/spend_requests/{ID}", auth: str = "Bearer lk_at_x") -> Any:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": query.encode("latin-1"),
        "headers": [(b"host", b"wallet"), (b"authorization", auth.encode("latin-1"))],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wait=30", LongPoll(ID, "lk_at_x", 30, None, ())),
        (
            "wait=5&last_status=pending_approval&include=card",
            LongPoll(ID, "lk_at_x", 5, "pending_approval", ("card",)),
        ),
        (
            "include=card,shared_payment_token&wait=1&include=",
            LongPoll(ID, "lk_at_x", 1, None, ("card", "shared_payment_token")),
        ),
        ("last_status=caf%C3%A9&wait=2", LongPoll(ID, "lk_at_x", 2, "café", ())),
    ],
)
def test_the_lane_takes_long_polls_it_reads_as_the_route_does(
    query: str, expected: LongPoll
) -> None:
    assert long_poll_request(_scope(query)) == expected


@pytest.mark.parametrize(
    "query",
    [
        "",  # the plain retrieve's (or the route's)
        "include=card",  # no wait
        "wait=0",  # answers at once, in the route
        "wait=31",
        "wait=05",
        "wait=+5",
        "wait=5.0",
        "wait=%205",
        "wait=%D9%A5",  # a digit, but not one the route's integer parsing is sure to share
        "wait=5&wait=6",
        "wait=5&last_status=",
        f"wait=5&last_status={'x' * 41}",
        "wait=5&last_status=a&last_status=b",
        "wait=5&include=cvc",
        "wait=5&expand=card",
    ],
)
def test_anything_else_goes_to_the_route(query: str) -> None:
    assert long_poll_request(_scope(query)) is None


@pytest.mark.parametrize(
    ("path", "auth"),
    [
        ("/spend_requests/lsrq_abc123/cancel", "Bearer lk_at_x"),
        ("/spend_requests/other_abc", "Bearer lk_at_x"),
        (f"/spend_requests/{ID}", "Basic bGs6eA=="),
        (f"/spend_requests/{ID}", ""),
    ],
)
def test_other_paths_and_credentials_go_to_the_route(path: str, auth: str) -> None:
    assert long_poll_request(_scope("wait=5", path=path, auth=auth)) is None


def test_errors_with_wait_are_the_routes(
    wallet: Any, agent: Any, other_agent: Any, person: str
) -> None:
    request = pending(agent)
    path = f"/spend_requests/{request['id']}"
    missing = agent.get("/spend_requests/lsrq_nosuchrequest", params={"wait": 1})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    someone_elses = other_agent.get(path, params={"wait": 1})
    assert someone_elses.status_code == 404
    assert agent.get(path, params={"wait": 1, "include": "cvc"}).status_code == 400
    assert agent.get(path, params={"wait": 31}).status_code == 400
    unknown = agent.get(path, params={"wait": 1}, headers={"Authorization": "Bearer lk_at_nope"})
    assert unknown.status_code == 401
    with wallet.session() as session:
        assert revoke_token(session, agent.headers["authorization"].partition(" ")[2])
    revoked = agent.get(path, params={"wait": 1})
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "authentication_required"


def test_a_timed_out_long_poll_answers_the_current_state_with_its_card(
    wallet: Any, agent: Any, person: str
) -> None:
    request = approved(wallet, agent, person)
    answer = agent.get(
        f"/spend_requests/{request['id']}",
        params={"wait": 1, "last_status": "approved", "include": "card"},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status"] == "approved" and body["card"]["number"].isdigit()
