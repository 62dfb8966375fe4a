"""Group commit: concurrent /api/track requests share one batched write.

Each request puts its rows in the queue and waits. A flusher takes everything queued (up to
`max_rows`), writes it in one transaction, and only then wakes the requests whose rows were in it.
While one batch commits the next one fills, so throughput grows with load instead of with the
number of connections. With several flushers (PostgreSQL: one connection each) a batch is being
built and sent while others wait for their commit's fsync.

What each request is promised:
- it is answered only after the commit that holds its rows (success), or with `unavailable`;
- a failed batch fails only its own requests; nothing is acknowledged unless its commit succeeded;
  a batch that fails for anything but the database being unavailable is retried one request at a
  time, so a request the database refuses cannot take others down with it;
- it is answered within about `budget` seconds even when the database hangs: rows still queued at
  their deadline are taken out of the queue (never written) and failed, and the write of a batch
  is told the deadline of its oldest request (the store bounds connect and statement time by it).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

log = logging.getLogger("leadtrail.batcher")

# write(rows, lane, deadline): lane = the flusher's index (a store may keep one connection per
# lane); deadline = event-loop time by which the write should have succeeded or failed.
WriteFn = Callable[[Sequence[Any], int, float], Awaitable[None]]


class GroupCommitter:
    def __init__(
        self,
        write: WriteFn,
        unavailable: type[Exception],
        max_rows: int = 2000,
        flushers: int = 1,
        budget: float = 1.7,
    ) -> None:
        self._write = write
        self._unavailable = unavailable
        self.max_rows = max_rows
        self.flushers = flushers
        self.budget = budget
        # (rows, future, deadline) in arrival order, so the head holds the earliest deadline.
        self._queue: deque[tuple[Sequence[Any], asyncio.Future[None], float]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._busy = 0  # flushers inside a write
        self.batches = 0
        self.rows_written = 0
        self.failed_batches = 0
        self.expired = 0  # requests failed while still queued (database hung or too slow)

    def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._tasks = [asyncio.create_task(self._flush_forever(lane)) for lane in range(self.flushers)]
        self._watchdog = asyncio.create_task(self._expire_forever())

    def enqueue(self, rows: Sequence[Any]) -> asyncio.Future[None]:
        """Queues `rows` and returns the future that completes once they are committed, or fails
        with `unavailable` when their batch failed or they could not be written in time (a future,
        not a coroutine around it: the hot path awaits it directly). Raises `unavailable` at once
        when the committer is closing."""
        if self._closing:
            raise self._unavailable("the server is shutting down")
        loop = self._loop
        if loop is None:
            self._start()
            loop = self._loop
        assert loop is not None and self._wakeup is not None
        future: asyncio.Future[None] = loop.create_future()
        self._queue.append((rows, future, loop.time() + self.budget))
        if self._busy < self.flushers:
            self._wakeup.set()
        # Not shielded: a cancelled request (client gone) cancels only its own wait; its rows may
        # still be written, which is harmless since nobody was told otherwise.
        return future

    def _take_batch(self) -> tuple[list[Any], list[tuple[Sequence[Any], asyncio.Future[None]]], float]:
        rows: list[Any] = []
        items: list[tuple[Sequence[Any], asyncio.Future[None]]] = []
        queue = self._queue
        deadline = queue[0][2]
        while queue:
            item_rows = queue[0][0]
            if rows and len(rows) + len(item_rows) > self.max_rows:
                break
            _, future, _ = queue.popleft()
            if future.done():  # cancelled while queued: its rows need not be written
                continue
            rows.extend(item_rows)
            items.append((item_rows, future))
        return rows, items, deadline

    async def _flush_forever(self, lane: int) -> None:
        assert self._wakeup is not None
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            rows, items, deadline = self._take_batch()
            if self._queue:
                self._wakeup.set()  # let an idle flusher start on the rest
            if not items:
                continue
            self._busy += 1
            try:
                error = await self._try_write(rows, lane, deadline)
                if error is not None and not isinstance(error, self._unavailable) and len(items) > 1:
                    # Not the database going away but something in the data (nothing a client
                    # sends should get this far, but if it does): one request's rows must not fail
                    # everyone else's, so each request is written on its own.
                    log.warning(
                        "batch of %d requests failed (%s: %s); writing them one by one",
                        len(items),
                        error.__class__.__name__,
                        error,
                    )
                    for item_rows, future in items:
                        self._settle([future], await self._try_write(list(item_rows), lane, deadline), len(item_rows))
                    continue
                self._settle([future for _, future in items], error, len(rows))
            finally:
                self._busy -= 1

    async def _try_write(self, rows: list[Any], lane: int, deadline: float) -> Exception | None:
        try:
            await self._write(rows, lane, deadline)
        except Exception as exc:
            return exc
        return None

    def _settle(self, futures: list[asyncio.Future[None]], error: Exception | None, rows: int) -> None:
        if error is None:
            self.batches += 1
            self.rows_written += rows
            for future in futures:
                if not future.done():
                    future.set_result(None)
            return
        self.failed_batches += 1
        if not isinstance(error, self._unavailable):
            log.warning("write of %d rows failed: %s: %s", rows, error.__class__.__name__, error)
            error = self._unavailable(str(error))
        for future in futures:
            if not future.done():
                future.set_exception(error)

    def _expire(self) -> None:
        """Fails requests still queued past their deadline: their rows were never written."""
        assert self._loop is not None
        now = self._loop.time()
        queue = self._queue
        while queue and queue[0][2] <= now:
            _, future, _ = queue.popleft()
            if not future.done():
                self.expired += 1
                future.set_exception(self._unavailable("the database did not take the write in time"))

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self._queue:
                self._expire()

    async def close(self) -> None:
        """Finishes every queued batch, then stops the flushers (graceful shutdown)."""
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        # Anything that slipped in after the flushers stopped is failed, never left hanging.
        while self._queue:
            _, future, _ = self._queue.popleft()
            if not future.done():
                future.set_exception(self._unavailable("the server is shutting down"))
        self._tasks = []
        self._watchdog = None
