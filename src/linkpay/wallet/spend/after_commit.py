"""Run side effects only once the transaction that caused them has committed.

Notifying the person about a request that then rolled back would send them to a page
that 404s; waking a long-poll before the change is visible would make it re-read the
old state. Callbacks queued with `call_after_commit` run after a successful commit and
are dropped on rollback. A failing callback is logged, never raised: the change it
follows is already durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from linkpay.wallet.spend import pg_wakes, wakeups  # noqa: F401 - pg_wakes: NOTIFY at commit
from linkpay.wallet.spend.states import KEEP_KEY, changed_ids

log = logging.getLogger("linkpay.wallet.spend")

_CALLBACKS_KEY = "linkpay.after_commit"


def call_after_commit(session: Session, callback: Callable[[], Any]) -> None:
    session.info.setdefault(_CALLBACKS_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released; the real COMMIT is still to come
    callbacks = session.info.pop(_CALLBACKS_KEY, [])
    changed = changed_ids(session, pop=True)
    if changed:
        wakeups.wake(changed)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - the commit is done; a side effect must not undo it
            log.warning("post-commit callback failed", exc_info=True)


@event.listens_for(Session, "after_transaction_end")
def _drop_when_root_ends(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: drop what it held (after a commit the lists
    are already empty; after a rollback nothing queued may run). A rolled-back
    savepoint inside a transaction that still commits (issuing, the web page's
    decision) keeps them."""
    if transaction.parent is None:
        session.info.pop(_CALLBACKS_KEY, None)
        session.info.pop(KEEP_KEY, None)
        changed_ids(session, pop=True)
