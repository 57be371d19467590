"""`ThreadHop`: the executor hop routes and lanes take instead of `anyio.to_thread`."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading

import pytest

from linkpay.thread_hop import ThreadHop
from linkpay.wallet.deps import in_unit


def test_a_hop_runs_off_the_loop_and_returns_or_raises() -> None:
    hop = ThreadHop(2, "hop-test")

    def where(suffix: str, *, upper: bool) -> str:
        name = threading.current_thread().name + suffix
        return name.upper() if upper else name

    def fails() -> None:
        raise LookupError("from the thread")

    async def main() -> str:
        with pytest.raises(LookupError, match="from the thread"):
            await hop.run(fails)
        return await hop.run(where, "!", upper=False)

    name = asyncio.run(main())
    assert name.startswith("hop-test") and name.endswith("!")
    assert name != threading.current_thread().name + "!"


def test_a_hop_carries_the_callers_context() -> None:
    """As `anyio.to_thread` does: a tracing span set on the event loop is the thread's too."""
    hop = ThreadHop(1, "hop-context")
    span: contextvars.ContextVar[str] = contextvars.ContextVar("span", default="none")

    async def main() -> str:
        span.set("request-42")
        return await hop.run(span.get)

    assert asyncio.run(main()) == "request-42"


def test_at_most_threads_functions_run_at_once() -> None:
    hop = ThreadHop(2, "hop-cap")
    running, most = [0], [0]
    lock = threading.Lock()
    release = threading.Event()

    def work() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1

    async def main() -> None:
        tasks = [asyncio.ensure_future(hop.run(work)) for _ in range(6)]

        async def both_threads_busy() -> None:
            while running[0] < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(both_threads_busy(), 10)
        await asyncio.sleep(0.05)  # a third would have started by now, were it allowed
        assert running[0] == 2
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert most[0] == 2


def test_a_sync_route_becomes_a_coroutine_run_in_the_route_threads() -> None:
    """FastAPI then adds no `anyio.to_thread` hop: it awaits the wrapper, which hops once."""

    def endpoint(n: int) -> tuple[str, int]:
        return threading.current_thread().name, n + 1

    wrapped = in_unit(endpoint)
    assert inspect.iscoroutinefunction(wrapped)
    assert inspect.signature(wrapped) == inspect.signature(endpoint)  # what FastAPI reads
    name, value = asyncio.run(wrapped(n=1))
    assert name.startswith("wallet-route") and value == 2
