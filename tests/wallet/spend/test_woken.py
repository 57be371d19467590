"""Batched long-poll answers (`spend.woken.settle`): the rows of every woken waiter in
one statement, and each answer the very bytes the retrieve route sends without `wait`."""

from __future__ import annotations

import threading
from typing import Any

from spend_helpers import pending, spt_body
from sqlalchemy import event

from linkpay.wallet.spend import service, woken
from linkpay.wallet.spend.longpoll import Probe


def _approve_all(wallet: Any, person: str, ids: list[str]) -> None:
    with wallet.session() as s:
        for spend_request_id in ids:
            service.approve_spend_request(
                s, user_id=person, spend_request_id=spend_request_id, settings=wallet.settings
            )


def _statements(wallet: Any) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    return seen, record


def test_one_batch_reads_all_rows_at_once_and_answers_the_routes_bytes(
    wallet: Any, agent: Any, person: str
) -> None:
    cards = [pending(agent)["id"] for _ in range(5)]
    token = agent.post("/spend_requests", json=spt_body(request_approval=True)).json()["id"]
    still = pending(agent)["id"]  # not approved: its waiter keeps waiting
    _approve_all(wallet, person, [*cards, token])
    probes = [Probe(i, person, "pending_approval", ("card",)) for i in cards]
    probes += [
        Probe(token, person, "pending_approval", ("shared_payment_token",)),
        Probe(still, person, "pending_approval", ("card",)),
        Probe(cards[0], "usr_someone_else", "pending_approval", ("card",)),
    ]
    engine = wallet.sessionmaker.kw["bind"]
    seen, record = _statements(wallet)
    event.listen(engine, "before_cursor_execute", record)
    try:
        outcomes = woken.settle(wallet.sessionmaker, wallet.settings, probes)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    reads = [s for s in seen if s.startswith("SELECT") and "FROM spend_requests" in s]
    # One statement for every woken waiter's row; SQLite reads in a snapshot first and
    # again in the one writing transaction that reveals (audited), whatever the count.
    assert len(reads) == (1 if engine.dialect.name == "postgresql" else 2), reads
    assert outcomes[-2].answer is None and outcomes[-2].snapshot is not None  # waits on
    assert outcomes[-1].snapshot is None  # another person's request: the route 404s
    for probe, outcome in zip(probes[:-2], outcomes[:-2], strict=True):
        assert outcome.answer is not None
        include = probe.include[0]
        plain = agent.get(f"/spend_requests/{probe.spend_request_id}", params={"include": include})
        assert plain.status_code == 200
        assert outcome.answer == plain.content  # byte for byte
        assert include in plain.json()


def test_long_poll_answer_is_the_plain_retrieve_answer(
    wallet: Any, agent: Any, person: str
) -> None:
    spend_request_id = pending(agent)["id"]
    got: dict[str, Any] = {}

    def poll() -> None:
        got["answer"] = agent.get(
            f"/spend_requests/{spend_request_id}",
            params={"wait": 10, "last_status": "pending_approval", "include": "card"},
        )

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    watcher = wallet.app.state.spend_request_watcher
    while spend_request_id not in watcher._waiters and thread.is_alive():
        thread.join(0.005)
    _approve_all(wallet, person, [spend_request_id])
    thread.join(30)
    answer = got["answer"]
    plain = agent.get(f"/spend_requests/{spend_request_id}", params={"include": "card"})
    assert answer.json()["status"] == "approved"
    assert answer.headers["content-type"] == plain.headers["content-type"]
    assert answer.content == plain.content


def test_a_timed_out_wait_is_answered_from_a_batch(wallet: Any, agent: Any) -> None:
    """A wait that runs out answers the current state, read and rendered by a batch (the
    rows in one `IN` query) rather than by a transaction of its own per poll."""
    spend_request_id = pending(agent)["id"]
    engine = wallet.sessionmaker.kw["bind"]
    seen, record = _statements(wallet)
    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = agent.get(
            f"/spend_requests/{spend_request_id}",
            params={"wait": 1, "last_status": "pending_approval", "include": "card"},
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    reads = [s for s in seen if s.startswith("SELECT") and "FROM spend_requests" in s]
    assert reads and all("spend_requests.id IN" in s for s in reads), reads
    plain = agent.get(f"/spend_requests/{spend_request_id}", params={"include": "card"})
    assert answer.json()["status"] == "pending_approval"
    assert answer.content == plain.content
