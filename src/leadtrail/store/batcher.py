"""Group commit: concurrent /api/track requests share one batched write.

Each request puts its rows in the queue and waits. A flusher takes everything queued (up to
`max_rows`), writes it in one transaction, and only then wakes the requests whose rows were in it.
While one batch commits the next one fills, so throughput grows with load instead of with the
number of connections. A failed batch fails only its own requests; nothing is acknowledged unless
its commit succeeded.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Awaitable, Callable, Sequence


class GroupCommitter:
    def __init__(
        self,
        write: Callable[[Sequence[Any]], Awaitable[None]],
        unavailable: type[Exception],
        max_rows: int = 2000,
        flushers: int = 1,
    ) -> None:
        self._write = write
        self._unavailable = unavailable
        self.max_rows = max_rows
        self.flushers = flushers
        self._queue: deque[tuple[Sequence[Any], asyncio.Future[None]]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.batches = 0
        self.rows_written = 0

    def _start(self) -> None:
        self._wakeup = asyncio.Event()
        self._tasks = [asyncio.create_task(self._flush_forever()) for _ in range(self.flushers)]

    async def submit(self, rows: Sequence[Any]) -> None:
        """Returns once `rows` are committed; raises `unavailable` when their batch failed."""
        if self._closing:
            raise self._unavailable("the server is shutting down")
        if not self._tasks:
            self._start()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((rows, future))
        assert self._wakeup is not None
        self._wakeup.set()
        await asyncio.shield(future)

    def _take_batch(self) -> list[tuple[Sequence[Any], asyncio.Future[None]]]:
        batch = []
        size = 0
        while self._queue and (size == 0 or size + len(self._queue[0][0]) <= self.max_rows):
            item = self._queue.popleft()
            batch.append(item)
            size += len(item[0])
        return batch

    async def _flush_forever(self) -> None:
        assert self._wakeup is not None
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = self._take_batch()
            if self._queue:
                self._wakeup.set()  # let another flusher start on the rest
            rows = [row for item, _ in batch for row in item]
            try:
                await self._write(rows)
            except Exception as exc:  # noqa: BLE001 - every failure fails this batch's requests only
                error = exc if isinstance(exc, self._unavailable) else self._unavailable(str(exc))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            self.rows_written += len(rows)
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def close(self) -> None:
        """Finishes every queued batch, then stops the flushers (graceful shutdown)."""
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
