"""Batched long-poll answers (`spend.woken.settle`): the rows of every woken waiter in
one statement, and each answer the very bytes the retrieve route sends without `wait`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from spend_helpers import pending, set_columns, spt_body, stored_status
from sqlalchemy import event, select, update

from linkpay.wallet.audit import events
from linkpay.wallet.spend import service, woken
from linkpay.wallet.spend.longpoll import Probe
from linkpay.wallet.store.audit_models import AuditEntry
from linkpay.wallet.store.models import Credential


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


def _revealed(wallet: Any, ids: list[str]) -> list[str]:
    with wallet.session() as s:
        return sorted(
            s.scalars(
                select(AuditEntry.subject).where(
                    AuditEntry.type == events.CREDENTIAL_REVEALED, AuditEntry.subject.in_(ids)
                )
            )
        )


def test_a_mixed_batch_answers_each_waiter_as_the_route_does(
    wallet: Any, agent: Any, person: str
) -> None:
    """Moved and unmoved, revealing and not, broken bindings, another person's and
    missing requests in one batch: each answer is the route's, only usable credentials
    are revealed, each once, and a due expiry is persisted."""
    card, edited, voided, denied, expiring = (pending(agent)["id"] for _ in range(5))
    token = agent.post("/spend_requests", json=spt_body(request_approval=True)).json()["id"]
    waiting, timed_out = pending(agent)["id"], pending(agent)["id"]
    _approve_all(wallet, person, [card, edited, voided, token, expiring])
    with wallet.session() as s:
        service.deny_spend_request(s, user_id=person, spend_request_id=denied, reason="no")
        s.execute(
            update(Credential).where(Credential.spend_request_id == voided).values(status="voided")
        )
    set_columns(wallet, edited, amount=2999)  # the approved hash no longer matches
    set_columns(wallet, expiring, credential_valid_until=datetime.now(UTC) - timedelta(1))
    card_wait = ("pending_approval", ("card",))
    probes = [
        Probe(card, person, *card_wait),
        Probe(edited, person, *card_wait),
        Probe(voided, person, *card_wait),
        Probe(denied, person, *card_wait),
        Probe(token, person, "pending_approval", ("shared_payment_token",)),
        Probe(expiring, person, *card_wait),
        Probe(card, person, "approved", ("card",)),  # unmoved: waits on
        Probe(waiting, person, None),  # reads only
        Probe(timed_out, person, "pending_approval", ("card",), final=True),
        Probe(card, "usr_someone_else", *card_wait),
        Probe("lsrq_missing", person, *card_wait),
    ]
    everyone = [card, edited, voided, denied, token, expiring, waiting, timed_out]
    outcomes = woken.settle(wallet.sessionmaker, wallet.settings, probes)

    assert _revealed(wallet, everyone) == sorted([card, token])  # once each
    assert [o.snapshot is None for o in outcomes] == [False] * 9 + [True, True]
    assert [o.answer is None for o in outcomes] == [False] * 6 + [True, True, False, True, True]
    assert stored_status(wallet, expiring) == "expired"  # persisted after the batch
    for probe, outcome in zip(probes, outcomes[:9], strict=False):
        assert outcome.snapshot is not None
        if outcome.answer is None:
            continue
        include = probe.include[0] if probe.include else None
        answer = agent.get(
            f"/spend_requests/{probe.spend_request_id}",
            params={"include": include} if include else {},
        )
        body = answer.json()
        assert outcome.snapshot.status == body["status"]
        if probe.spend_request_id == expiring:  # the route reads it after its expiry
            assert body["status"] == "expired" and "card" not in body
            continue
        assert outcome.answer == answer.content, probe  # byte for byte
        assert (include in body) == (probe.spend_request_id in (card, token))
