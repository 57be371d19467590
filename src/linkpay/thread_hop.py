"""Hops from the event loop to worker threads through a plain executor.

Starlette and FastAPI send sync work to threads with `anyio.to_thread.run_sync`: a
`queue.Queue` with its `Condition`, a cancel scope, a capacity limiter and a run-var
lookup per call. On the wallet's plain retrieve that hop cost ~100 us of CPU, a quarter
of the whole request (PostgreSQL, 2 workers, 64 connections, wrk: 390-485 us of CPU per
retrieve through anyio, 311-347 us through an executor). `ThreadHop` is the executor's
hop: `loop.run_in_executor` on a `ThreadPoolExecutor`, whose queue is a C `SimpleQueue`.

Like anyio's, a hop runs the function in a copy of the caller's context (its
`contextvars`, such as a tracing span), and is not cancelled by the caller's
cancellation: the function runs to its end in its thread (a transaction commits or rolls
back on its own), only its result is dropped. Threads start on first use and stay for
the process.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class ThreadHop:
    """At most `threads` functions at once in this hop's threads; more wait their turn."""

    def __init__(self, threads: int, name: str) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix=name)

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)
