"""A visitor that sends /api/track batches the way a careful client does, for fault and multi-process
tests: unique event_ids, a retry of a failed batch with the SAME event_ids and the cookie it was
given (on the 503 as well), and a record of what was acknowledged.

    visitors = [Visitor([server.url], f"v{i}", stop) for i in range(8)]
    for v in visitors: v.start()
    ...; stop.set(); join_all(visitors)
    acked = set().union(*(v.acked for v in visitors))
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from browser import CHROME_UA


class Visitor(threading.Thread):
    def __init__(
        self,
        urls: list[str],
        name: str,
        stop: threading.Event,
        batch: int = 5,
        retry_for: float = 60.0,
        pause: float = 0.0,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(name=f"visitor-{name}", daemon=True)
        self.urls = urls
        self.tag = name
        self.stop = stop
        self.batch = batch
        self.retry_for = retry_for  # a batch is given up after failing this long
        self.pause = pause
        self.timeout = timeout
        self.cookie: str | None = None
        self.sent: list[str] = []  # every event_id sent at least once
        self.acked: list[str] = []  # event_ids of batches answered 204
        self.given_up: list[str] = []
        self.statuses: Counter = Counter()  # status code, or "error" for a connection-level failure
        self.unexpected: list[str] = []
        self.answers: list[tuple[float, float, int | str]] = []  # (sent at, answered at, status)
        self.max_seconds = 0.0
        self._conns: dict[str, http.client.HTTPConnection] = {}
        self._turn = 0

    def _conn(self, url: str) -> http.client.HTTPConnection:
        conn = self._conns.get(url)
        if conn is None:
            parts = urlsplit(url)
            conn = self._conns[url] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        return conn

    def post(self, event_ids: list[str]) -> int | str:
        """One attempt: the status, or "error" when the connection failed."""
        url = self.urls[self._turn % len(self.urls)]
        self._turn += 1
        body = json.dumps(
            {
                "events": [
                    {"event_name": "page_view", "page_path": f"/p/{eid}", "event_id": eid, "params": {"title": "T"}}
                    for eid in event_ids
                ]
            }
        )
        headers = {"Content-Type": "application/json", "User-Agent": CHROME_UA}
        if self.cookie:
            headers["Cookie"] = f"anon_id={self.cookie}"
        started = time.monotonic()
        try:
            conn = self._conn(url)
            conn.request("POST", "/api/track", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status: int | str = resp.status
            cookie = resp.getheader("set-cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0].split("=", 1)[1]
            if status == 503:
                if not resp.getheader("retry-after") or "error" not in json.loads(data):
                    self.unexpected.append(f"503 without Retry-After or JSON error: {data[:200]!r}")
            elif status != 204:
                self.unexpected.append(f"{status}: {data[:200]!r}")
            if resp.getheader("connection", "").lower() == "close":
                self._drop(url)
        except (OSError, http.client.HTTPException):
            status = "error"
            self._drop(url)
        finished = time.monotonic()
        self.max_seconds = max(self.max_seconds, finished - started)
        self.statuses[status] += 1
        self.answers.append((started, finished, status))
        return status

    def _drop(self, url: str) -> None:
        conn = self._conns.pop(url, None)
        if conn is not None:
            conn.close()

    def send_until_acked(self, event_ids: list[str]) -> bool:
        self.sent.extend(event_ids)
        give_up_at = time.monotonic() + self.retry_for
        while True:
            status = self.post(event_ids)
            if status == 204:
                self.acked.extend(event_ids)
                return True
            if status not in (503, "error") or time.monotonic() > give_up_at:
                self.given_up.extend(event_ids)
                return False
            time.sleep(0.05)  # a real client waits Retry-After; a test need not

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            ids = [f"{self.tag}-{n + i}" for i in range(self.batch)]
            n += self.batch
            self.send_until_acked(ids)
            if self.pause:
                time.sleep(self.pause)
        for conn in self._conns.values():
            conn.close()


def join_all(visitors: list[Visitor], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    for v in visitors:
        v.join(max(0.0, deadline - time.monotonic()))
    stuck = [v.name for v in visitors if v.is_alive()]
    assert not stuck, f"visitors still waiting for an answer after {timeout}s: {stuck}"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# -- shared by the fault, multi-process and totals tests ------------------------------------------

NO_LIMIT = {"LEADTRAIL_RATE_LIMIT": "0"}  # many requests from one address is the point here


def assert_exactly_once(stored: list[str], acked: set[str], sent: set[str]) -> None:
    twice = [eid for eid, n in Counter(stored).items() if n > 1]
    assert not twice, f"stored more than once: {twice[:10]}"
    lost = acked - set(stored)
    assert not lost, f"{len(lost)} acknowledged events are not stored: {sorted(lost)[:10]}"
    assert set(stored) <= sent, "stored events nobody sent"


def stored_ids(database_url: str) -> list[str]:
    """event_id of every stored event, read straight from either database."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            return [r[0] for r in conn.execute("select params->>'event_id' from session_events")]
    import asyncpg
    from support import run_async

    async def go():
        conn = await asyncpg.connect(database_url)
        try:
            return [r[0] for r in await conn.fetch("select params->>'event_id' from session_events")]
        finally:
            await conn.close()

    return run_async(go())


class ResendingVisitor(Visitor):
    """Sends every fifth batch a second time (same cookie, same event_ids)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.resent = 0

    def send_until_acked(self, event_ids: list[str]) -> bool:
        ok = super().send_until_acked(event_ids)
        if ok and int(event_ids[0].rsplit("-", 1)[1]) % (5 * self.batch) == 0:
            self.resent += 1
            ok = super().send_until_acked(event_ids)
        return ok


def run_visitors(urls: list[str], n: int = 8, events: int = 3000) -> list[ResendingVisitor]:
    stop = threading.Event()
    visitors = [ResendingVisitor(urls, f"w{i}", stop) for i in range(n)]
    for v in visitors:
        v.start()
    try:
        wait_for(lambda: sum(len(v.acked) for v in visitors) >= events, 60, "events acknowledged")
    finally:
        stop.set()
        join_all(visitors)
    return visitors
