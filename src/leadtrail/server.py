"""The HTTP server leadtrail runs: uvicorn's httptools protocol with the limits it lacks.

- A request head (request line and headers) may hold at most MAX_HEAD_BYTES in all: beyond that
  the answer is 431 and the connection closes, before the head is ever held in memory whole
  (httptools itself has no cap; one 64 MiB Cookie header used to be read and parsed).
- A head must arrive within HEAD_TIMEOUT seconds of its first byte, or of the connection opening:
  slow-loris connections that trickle a byte a second are closed.
- A response started before the request's body was read in full (413, 415, 400, 429 ...) says
  `Connection: close` and closes the connection, so a never-ending body is not read after its
  refusal (uvicorn reads on and discards it).
- At most `max_connections` connections per process; one more is closed at once (the
  descriptors stay available to the requests already being served). Set `ulimit -n` above it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024
HEAD_TIMEOUT = 10.0
MAX_CONNECTIONS = 1000
_431_BODY = b'{"error":"request headers too large","details":["at most 32768 bytes of request line and headers"]}'
_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n" % len(_431_BODY)
) + _431_BODY


# uvicorn's per-request callbacks, called directly from the overrides below (cheaper than super()).
_data_received = HttpToolsProtocol.data_received
_on_headers_complete = HttpToolsProtocol.on_headers_complete
_on_message_complete = HttpToolsProtocol.on_message_complete


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the next bytes belong to a request head
        self._head_bytes = 0  # of the head being read, in earlier chunks
        self._tail = b""  # the last bytes of the previous chunk (a CRLFCRLF split across two)
        # When the head being awaited started (the connection opened, or its first byte came);
        # None while a request is being answered or a kept-alive connection waits for its next.
        self._head_since: float | None = None
        # One timer per connection, not one per request: it checks _head_since when it fires and
        # is armed again for what is left (arming and cancelling a timer for every request cost
        # more than the rest of this class).
        self._head_timer: asyncio.TimerHandle | None = None
        # The request's own keep-alive, held back while its body is still arriving (see
        # on_headers_complete); False once the server is shutting down.
        self._keep_alive_after_body = True
        self._shutting_down = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.abort()  # over the cap: no answer, the descriptor comes back at once
            return
        self._head_since = self.loop.time()
        self._arm_head_timer(self.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            if self._head_bytes:
                end = (self._tail + data).find(b"\r\n\r\n")
                size = self._head_bytes + (len(data) if end < 0 else end + 4 - len(self._tail))
            else:
                end = data.find(b"\r\n\r\n")
                size = len(data) if end < 0 else end + 4
            if size > self.max_head_bytes:
                self._refuse_head()
                return
            if end < 0:
                self._head_bytes = size
                self._tail = data[-3:]
            if self._head_since is None:
                self._head_since = self.loop.time()
        _data_received(self, data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._head_since = None
        previous = self.cycle
        _on_headers_complete(self)
        cycle = self.cycle
        if cycle is not None and cycle is not previous:
            # A response that starts while the request body is still arriving ends the
            # connection: until the body is read in full (on_message_complete) the request is
            # not kept alive, so uvicorn writes `connection: close` and closes the connection once
            # the answer is sent (the rest of the body is not read on).
            # (Said through the cycle's own flag rather than by wrapping its `send`: changing the
            # class of uvicorn's cycle object made each of its attribute reads slower.)
            self._keep_alive_after_body = cycle.keep_alive and not self._shutting_down
            cycle.keep_alive = False

    def on_message_complete(self) -> None:
        self._in_head = True  # what follows is the next request's head (pipelined or kept alive)
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.keep_alive = self._keep_alive_after_body and not self._shutting_down
        _on_message_complete(self)

    def shutdown(self) -> None:
        self._shutting_down = True
        super().shutdown()

    def _refuse_head(self) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(_431)
            self.transport.close()

    def _arm_head_timer(self, delay: float) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(delay, self._head_timer_fired)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timer_fired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        since = self._head_since
        if since is None or not self._in_head:
            self._arm_head_timer(self.head_timeout)  # no head awaited now: look again later
            return
        left = since + self.head_timeout - self.loop.time()
        if left > 0:
            self._arm_head_timer(left)
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head waits while the previous answer is made: its time starts again.
            self._head_since = self.loop.time()
            self._arm_head_timer(self.head_timeout)
            return
        self.transport.close()


def protocol_for(max_connections: int, head_timeout: float) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with this server's limits (a class attribute each, set once at start)."""
    GuardedHttpToolsProtocol.max_connections = max_connections
    GuardedHttpToolsProtocol.head_timeout = head_timeout
    return GuardedHttpToolsProtocol
