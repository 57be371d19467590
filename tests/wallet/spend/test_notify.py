"""The person is notified when approval is requested — only once the change has
committed, never for a rolled-back request, and a failing notifier never fails or
blocks the agent's call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from spend_helpers import card_body, create

from linkpay.wallet.spend import service
from linkpay.wallet.store.db import transaction
from linkpay.wire import SpendRequestCreate


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def spend_request_needs_approval(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def device_login_started(self, **kwargs: Any) -> None:
        return None


class Broken(Recorder):
    def spend_request_needs_approval(self, **kwargs: Any) -> None:
        super().spend_request_needs_approval(**kwargs)
        raise RuntimeError("smtp server on fire")


@contextmanager
def notifier_swapped(wallet: Any, notifier: Any) -> Iterator[Any]:
    """Starlette's State does not survive monkeypatch's undo; swap by hand."""
    original = wallet.app.state.notifier
    wallet.app.state.notifier = notifier
    try:
        yield notifier
    finally:
        wallet.app.state.notifier = original


@pytest.fixture
def recorder(wallet: Any) -> Iterator[Recorder]:
    with notifier_swapped(wallet, Recorder()) as notifier:
        yield notifier


def test_request_approval_notifies_the_person(
    wallet: Any, agent: Any, person: str, recorder: Recorder
) -> None:
    request = create(agent, merchant_name="Charger\x1b[31m Shop")
    assert recorder.calls == []  # created only: nobody is bothered yet
    answer = agent.post(f"/spend_requests/{request['id']}/request_approval")
    assert answer.status_code == 200
    assert recorder.calls == [
        {
            "user_id": person,
            "spend_request_id": request["id"],
            "approval_url": f"{wallet.base_url}/approve/{request['id']}",
            # The whole escape sequence goes (the project's one sanitizer), not just ESC.
            "summary": "Charger Shop: 19.99 USD (asked by pytest (spend tests))",
        }
    ]


def test_create_with_request_approval_notifies(agent: Any, recorder: Recorder) -> None:
    answer = agent.post("/spend_requests", json=card_body(request_approval=True))
    assert answer.json()["status"] == "pending_approval"
    assert [call["spend_request_id"] for call in recorder.calls] == [answer.json()["id"]]


def test_failing_notifier_does_not_fail_the_request(wallet: Any, agent: Any) -> None:
    with notifier_swapped(wallet, Broken()) as broken:
        answer = agent.post("/spend_requests", json=card_body(request_approval=True))
    assert answer.status_code == 200
    assert answer.json()["status"] == "pending_approval"
    assert len(broken.calls) == 1


def test_no_notification_when_the_transaction_rolls_back(
    wallet: Any, agent: Any, agent_token: Any, person: str
) -> None:
    from linkpay.wallet.auth.principal import AgentPrincipal

    principal = AgentPrincipal(
        user_id=person, token_family_id="tfam_test", client_id="pytest", scopes=frozenset()
    )
    notifier = Recorder()
    body = SpendRequestCreate.model_validate(card_body(request_approval=True))
    with pytest.raises(RuntimeError), transaction(wallet.sessionmaker) as session:
        service.create_spend_request(
            session, principal, body, settings=wallet.settings, notifier=notifier
        )
        raise RuntimeError("something later in the same transaction failed")
    assert notifier.calls == []
    with transaction(wallet.sessionmaker) as session:
        row = service.create_spend_request(
            session, principal, body, settings=wallet.settings, notifier=notifier
        )
        assert notifier.calls == []  # not before the commit
    assert [call["spend_request_id"] for call in notifier.calls] == [row.id]


def test_savepoints_do_not_trigger_early_notifications(wallet: Any, person: str) -> None:
    """A released SAVEPOINT is not a commit (the web page decides inside one, issuing
    uses one): nothing is sent until the real COMMIT, nothing if it rolls back."""
    from linkpay.wallet.auth.principal import AgentPrincipal

    principal = AgentPrincipal(
        user_id=person, token_family_id="tfam_nested", client_id="pytest", scopes=frozenset()
    )
    notifier = Recorder()
    body = SpendRequestCreate.model_validate(card_body(request_approval=True))
    with pytest.raises(RuntimeError), transaction(wallet.sessionmaker) as session:
        with session.begin_nested():
            service.create_spend_request(
                session, principal, body, settings=wallet.settings, notifier=notifier
            )
        assert notifier.calls == []
        raise RuntimeError("the outer transaction fails after the savepoint")
    assert notifier.calls == []
    with transaction(wallet.sessionmaker) as session:
        with session.begin_nested():
            row = service.create_spend_request(
                session, principal, body, settings=wallet.settings, notifier=notifier
            )
        assert notifier.calls == []
    assert [call["spend_request_id"] for call in notifier.calls] == [row.id]
