"""In-process wake-ups for long-polls: when this process commits a change to a spend
request, waiters on it are re-checked at once instead of at their next database poll.
This is only a shortcut; changes made by other worker processes arrive through
`longpoll`'s LISTEN (PostgreSQL) or version poll (SQLite). Commits happen in worker
threads, so each wake is handed to the waiter's event loop with
`call_soon_threadsafe`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable

Waker = tuple[asyncio.AbstractEventLoop, Callable[[], object]]

_lock = threading.Lock()
_waiters: dict[str, set[Waker]] = {}


def register(spend_request_id: str, wake: Callable[[], object]) -> Waker:
    """Call from the waiting coroutine (`wake` runs on its loop); pair with
    `unregister` in a finally."""
    waiter = (asyncio.get_running_loop(), wake)
    with _lock:
        _waiters.setdefault(spend_request_id, set()).add(waiter)
    return waiter


def unregister(spend_request_id: str, waiter: Waker) -> None:
    with _lock:
        waiters = _waiters.get(spend_request_id)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del _waiters[spend_request_id]


def wake(spend_request_ids: Iterable[str]) -> None:
    with _lock:
        targets = [w for sid in spend_request_ids for w in _waiters.get(sid, ())]
    for loop, callback in targets:
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:  # that loop has closed; its waiter is gone
            pass
