"""Adaptive micro-batching: requests that arrive while the engine is busy are labelled together.

The engine is far faster per message in a batch (one vectorizer and model call for many messages),
so under load the server groups waiting requests instead of queueing them one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

BatchFunction = Callable[[Sequence[Any]], list[Any]]


class MicroBatcher:
    """Run `function(items)` on one worker thread for all items queued under the same key.

    A batch starts once the queue stops growing (at most `max_wait` seconds after the first request),
    and whatever queues meanwhile forms the next one. One worker thread keeps the engine's calls serial.
    """

    def __init__(self, *, max_batch: int = 64, max_wait: float = 0.003) -> None:
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webcare-engine")
        self._pending: dict[Hashable, list[tuple[Any, asyncio.Future[Any]]]] = {}
        self._functions: dict[Hashable, BatchFunction] = {}
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # counters for /health and the load benchmark (mean batch size)
        self.items = 0

    async def submit(self, key: Hashable, function: BatchFunction, item: Any) -> Any:
        """Queue `item` for `function` (the same function for the same key) and wait for its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._functions[key] = function
        self._pending.setdefault(key, []).append((item, future))
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            self._runner = loop.create_task(self._drain())
        return await future

    async def run(self, function: Callable[[], Any]) -> Any:
        """Run a one-off call on the engine's thread (so it never races a batch)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def _settle(self) -> None:
        """Let requests already on their way join the batch: wait while the queue still grows (<= max_wait).

        Without this, the engine thread holds the GIL while it works, the event loop hardly parses the
        requests waiting on the sockets, and batches stay at one or two messages.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        queued = -1
        while loop.time() < deadline:
            now = sum(len(items) for items in self._pending.values())
            if now == queued or now >= self.max_batch:
                return
            queued = now
            await asyncio.sleep(self.max_wait / 6)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            await self._settle()
            key = next(iter(self._pending))
            queued = self._pending.pop(key)
            batch, rest = queued[: self.max_batch], queued[self.max_batch :]
            if rest:
                self._pending[key] = rest
            live = [(item, future) for item, future in batch if not future.done()]
            if not live:
                continue
            function = self._functions[key]
            self.batches += 1
            self.items += len(live)
            outcomes = await loop.run_in_executor(self._executor, _run_isolated, function, [i for i, _ in live])
            for (_, future), outcome in zip(live, outcomes, strict=True):
                if future.done():  # the request gave up (timeout or client gone)
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _run_isolated(function: BatchFunction, items: list[Any]) -> list[Any]:
    """The batch's results, or on failure each item's own result or exception (one bad item fails alone)."""
    try:
        return list(function(items))
    except Exception as exc:
        if len(items) == 1:
            return [exc]
    outcomes: list[Any] = []
    for item in items:
        try:
            outcomes.append(function([item])[0])
        except Exception as exc:
            outcomes.append(exc)
    return outcomes
