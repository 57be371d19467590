"""In-process wake-ups for long-polls: when this process commits a change to a spend
request, waiters on it return at once instead of at their next database poll. This is
only a shortcut; changes made by other worker processes are still seen by polling
(see `longpoll`). Commits happen in worker threads, so waking goes through each
waiter's event loop with `call_soon_threadsafe`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

_lock = threading.Lock()
_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}


def register(
    spend_request_id: str, event: asyncio.Event | None = None
) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
    """Call from the waiting coroutine; pair with `unregister` in a finally."""
    waiter = (asyncio.get_running_loop(), event or asyncio.Event())
    with _lock:
        _waiters.setdefault(spend_request_id, set()).add(waiter)
    return waiter


def unregister(
    spend_request_id: str, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]
) -> None:
    with _lock:
        waiters = _waiters.get(spend_request_id)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del _waiters[spend_request_id]


def wake(spend_request_ids: Iterable[str]) -> None:
    with _lock:
        targets = [w for sid in spend_request_ids for w in _waiters.get(sid, ())]
    for loop, flag in targets:
        try:
            loop.call_soon_threadsafe(flag.set)
        except RuntimeError:  # that loop has closed; its waiter is gone
            pass
