"""Fault tests: what a 2xx promises holds when the database or the server is lost under load.

A live `leadtrail serve` and the session's real PostgreSQL server (tests/pgserver.py). Clients send
batches with unique event_ids and retry a failed batch with the same ids and the cookie they were
given, as the tracker does. Afterwards the database is read directly: every acknowledged event is
stored, none twice. Timings are asserted only as generous "does not hang" bounds, except the
contract's own "503 within 2 seconds" when the database refuses connections.

The PostgreSQL server is shared with the rest of the run: every test that stops it starts it
again in a `finally`.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import CHROME_UA
from trackclient import NO_LIMIT, Visitor, assert_exactly_once, join_all, stored_ids, wait_for

pytestmark = pytest.mark.faults


# -- helpers -----------------------------------------------------------------------------------


def serve(start_server, url: str, *args: str):
    return start_server(url, *args, env=NO_LIMIT)


def postgres_pids(pg_server) -> list[int]:
    """The postmaster and every process it started (backends have sessions of their own, so a
    process-group kill would miss them)."""
    root = pg_server.proc.pid
    pids = [root]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == root:
            pids.append(int(stat.parent.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill9_postgres(pg_server) -> None:
    """kill -9 the whole server at once: postmaster and all backends, mid-commit or not."""
    pids = postgres_pids(pg_server)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pg_server.kill9()  # reaps the postmaster
    wait_for(lambda: not any(_alive(p) for p in pids), 10, "PostgreSQL processes to exit")


def signal_postgres(pg_server, sig: int) -> None:
    for pid in postgres_pids(pg_server):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


def stored_event_ids(pg_server, url: str) -> list[str]:
    out = pg_server.psql("select params->>'event_id' from session_events", dbname=dbname(url))
    return [line for line in out.splitlines() if line]


def request(
    url: str,
    method: str = "GET",
    path: str = "/healthz",
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict, bytes, float]:
    """(status, lower-cased headers, body, seconds)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, time.monotonic() - started
    finally:
        conn.close()


def track_once(url: str, event_id: str, cookie: str | None = None) -> tuple[int, dict, bytes, float]:
    headers = {"Content-Type": "application/json", "User-Agent": CHROME_UA}
    if cookie:
        headers["Cookie"] = f"anon_id={cookie}"
    body = json.dumps({"event_name": "page_view", "page_path": "/", "event_id": event_id}).encode()
    return request(url, "POST", "/api/track", body, headers)


def parallel(n: int, work) -> list:
    results: list = [None] * n

    def run(i: int) -> None:
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "requests hung"
    return results


# -- PostgreSQL killed under load --------------------------------------------------------------


def test_postgres_killed_under_load_loses_no_acknowledged_event(pg_server, pg_url, start_server):
    """kill -9 of the whole PostgreSQL server while 8 clients send batches; restarted 1.5 s later.
    Every event that got a 204 is stored, none twice; requests meanwhile got 503 + Retry-After;
    the server carries on without a restart."""
    server = serve(start_server, pg_url)
    stop = threading.Event()
    visitors = [Visitor([server.url], f"k{i}", stop) for i in range(8)]
    acked = lambda: sum(len(v.acked) for v in visitors)  # noqa: E731
    for v in visitors:
        v.start()
    try:
        wait_for(lambda: acked() >= 300, 30, "events acknowledged before the kill")
        kill9_postgres(pg_server)
        down_since = time.monotonic()
        wait_for(lambda: sum(v.statuses[503] for v in visitors) >= 8, 10, "503s while PostgreSQL is down")
        time.sleep(max(0.0, 1.5 - (time.monotonic() - down_since)))
        pg_server.start()
        after_restart = acked()
        wait_for(lambda: acked() >= after_restart + 300, 60, "events acknowledged after the restart")
    finally:
        stop.set()
        try:
            join_all(visitors)
        finally:
            pg_server.start()

    for v in visitors:
        assert not v.unexpected, v.unexpected[:5]
        assert not v.given_up, f"{v.name} gave up on {len(v.given_up)} events"
    assert server.proc.poll() is None, "the server died with the database"
    assert sum(v.statuses[503] for v in visitors) > 0
    sent = set().union(*(v.sent for v in visitors))
    acked_ids = set().union(*(v.acked for v in visitors))
    assert acked_ids == sent  # every batch was retried until it got its 204
    assert_exactly_once(stored_event_ids(pg_server, pg_url), acked_ids, sent)
    # Recovered without a restart: health and a fresh event.
    assert request(server.url)[0] == 200
    assert track_once(server.url, "after-recovery")[0] == 204


# -- database unreachable ------------------------------------------------------------------------


def test_database_down_answers_503_with_retry_after_within_2_seconds(pg_server, pg_url, start_server):
    """PostgreSQL gone (refusing connections): /api/track and /healthz answer 503 with Retry-After
    at once, nothing is stored, and the first request after it is back gets 204."""
    server = serve(start_server, pg_url)
    assert track_once(server.url, "before")[0] == 204
    kill9_postgres(pg_server)
    try:
        results = parallel(16, lambda i: track_once(server.url, f"down-{i}"))
        health = request(server.url)
    finally:
        pg_server.start()
    for status, headers, body, seconds in results:
        assert status == 503 and headers.get("retry-after") and json.loads(body)["error"]
        assert seconds < 2.0, f"answered after {seconds:.2f}s"
    assert health[0] == 503 and health[1].get("retry-after") and health[3] < 2.0
    wait_for(lambda: track_once(server.url, "after")[0] == 204, 15, "204 once PostgreSQL is back")
    assert sorted(stored_event_ids(pg_server, pg_url)) == ["after", "before"]


def test_frozen_database_never_hangs_a_request_and_retries_store_once(pg_server, pg_url, start_server):
    """PostgreSQL frozen (SIGSTOP: connections open, nothing answers, like a network partition):
    every request gets 503 + Retry-After within the write deadline (1.7 s, asserted only as < 5 s),
    /healthz too. A write cut off by the deadline may still commit when the database resumes, so
    its outcome is unknown: the client's retry with the same cookie and event_id stores it once."""
    server = serve(start_server, pg_url)
    cookies: list[str | None] = []
    for i in range(8):  # eight visitors with a cookie, and a live writer connection
        status, headers, _, _ = track_once(server.url, f"warm-{i}")
        assert status == 204
        cookies.append(headers["set-cookie"].split(";", 1)[0].split("=", 1)[1])
    signal_postgres(pg_server, signal.SIGSTOP)
    try:
        results = parallel(8, lambda i: track_once(server.url, f"frozen-{i}", cookies[i]))
        health = request(server.url)
    finally:
        signal_postgres(pg_server, signal.SIGCONT)
    for status, headers, body, seconds in results:
        assert status == 503 and headers.get("retry-after") and json.loads(body)["error"]
        assert seconds < 5.0, f"answered after {seconds:.2f}s"
    assert health[0] == 503 and health[3] < 5.0
    for i in range(8):  # the retries, as the tracker would send them
        wait_for(lambda i=i: track_once(server.url, f"frozen-{i}", cookies[i])[0] == 204, 15, "204 after resume")
    stored = stored_event_ids(pg_server, pg_url)
    expected = {f"warm-{i}" for i in range(8)} | {f"frozen-{i}" for i in range(8)}
    assert sorted(stored) == sorted(expected)  # each exactly once


# -- SIGTERM under load --------------------------------------------------------------------------


def test_sigterm_under_load_finishes_in_flight_requests_and_loses_nothing(database_url, start_server):
    """SIGTERM while 8 clients send: the server stops taking connections, answers the requests it
    has, commits them, and shuts down cleanly. Every 204 is stored, none twice; requests answered after the
    signal show in-flight work was finished, not dropped."""
    server = serve(start_server, database_url)
    stop = threading.Event()
    visitors = [Visitor([server.url], f"t{i}", stop, retry_for=0.0) for i in range(8)]
    for v in visitors:
        v.start()
    try:
        wait_for(lambda: sum(len(v.acked) for v in visitors) >= 300, 30, "events acknowledged")
        term_at = time.monotonic()
        code = server.stop(signal.SIGTERM, timeout=40)
    finally:
        stop.set()
        join_all(visitors)
    # uvicorn re-raises the signal once its graceful shutdown is done: -15 is a clean exit too.
    logs = server.logs()
    assert code in (0, -signal.SIGTERM), logs[-3000:]
    assert "Application shutdown complete" in logs and "Traceback" not in logs, logs[-3000:]
    for v in visitors:
        # Nothing but 204s and, once the server was gone, failed connections (never a 5xx).
        assert set(v.statuses) <= {204, "error"}, v.statuses
    answered_after = sum(
        1 for v in visitors for sent, done, status in v.answers if sent < term_at < done and status == 204
    )
    assert answered_after > 0, "no request in flight at SIGTERM got its 204"
    sent = set().union(*(v.sent for v in visitors))
    acked = set().union(*(v.acked for v in visitors))
    assert_exactly_once(stored_ids(database_url), acked, sent)


# -- the group commit itself, in process ---------------------------------------------------------


class Unavailable(Exception):
    pass


def test_a_poisoned_batch_fails_only_the_request_that_poisoned_it():
    """A write refused for its data (not for the database being away) is retried one request at
    a time: the other requests of the batch are committed and acknowledged."""
    from leadtrail.store.batcher import GroupCommitter

    written: list[str] = []

    async def write(rows, lane, deadline):
        await asyncio.sleep(0.01)
        if "poison" in rows:
            raise ValueError("refused")
        written.extend(rows)

    async def main():
        committer = GroupCommitter(write, Unavailable, flushers=1)
        results = await asyncio.gather(
            *(committer.enqueue([f"r{i}", f"s{i}"] if i != 7 else ["x", "poison"]) for i in range(20)),
            return_exceptions=True,
        )
        await committer.close()
        return results

    results = asyncio.run(main())
    assert isinstance(results[7], Unavailable)
    assert all(r is None for i, r in enumerate(results) if i != 7)
    assert sorted(written) == sorted([f"r{i}" for i in range(20) if i != 7] + [f"s{i}" for i in range(20) if i != 7])


def test_requests_queued_behind_a_hung_write_fail_at_their_deadline_unwritten():
    """A write hangs past every deadline (a store that cannot bound it): the requests queued behind
    it are answered with `unavailable` at their own deadline and their rows are never handed to the
    store, so that answer is true."""
    from leadtrail.store.batcher import GroupCommitter

    started: list[list[str]] = []

    async def write(rows, lane, deadline):
        started.append(list(rows))
        await asyncio.sleep(1.5)

    async def main():
        committer = GroupCommitter(write, Unavailable, flushers=1, budget=0.5)
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(committer.enqueue(["a"]))
        await asyncio.sleep(0.05)  # "a" is being written; these queue behind it
        t0 = loop.time()
        queued = [asyncio.ensure_future(committer.enqueue([f"q{i}"])) for i in range(5)]
        results = await asyncio.gather(*queued, return_exceptions=True)
        waited = loop.time() - t0
        await first
        await committer.close()
        return results, waited, committer.expired

    results, waited, expired = asyncio.run(main())
    assert all(isinstance(r, Unavailable) for r in results)
    assert waited < 1.4  # at their deadline (0.5 s + the 0.1 s watchdog), not when the write ends
    assert started == [["a"]] and expired == 5


def test_close_commits_what_is_queued_then_refuses_new_writes():
    from leadtrail.store.batcher import GroupCommitter

    written: list[str] = []

    async def write(rows, lane, deadline):
        await asyncio.sleep(0.02)
        written.extend(rows)

    async def main():
        committer = GroupCommitter(write, Unavailable, flushers=2)
        pending = [asyncio.ensure_future(committer.enqueue([f"r{i}"])) for i in range(50)]
        await asyncio.sleep(0)
        await committer.close()
        results = await asyncio.gather(*pending, return_exceptions=True)
        try:
            await committer.enqueue(["late"])
        except Unavailable:
            late = "refused"
        return results, late

    results, late = asyncio.run(main())
    assert all(r is None for r in results) and sorted(written) == sorted(f"r{i}" for i in range(50))
    assert late == "refused"


# -- the hot path's own failure answers, in process -----------------------------------------------


def test_storage_failure_is_a_json_503_with_retry_after_and_the_cookie(sqlite_url, monkeypatch):
    """A 503 from the store carries Retry-After, a JSON error and the anon_id cookie (the write's
    outcome may be unknown, so the client's retry must come back as the same visitor)."""
    from support import app_client, row_counts

    from leadtrail.store import StoreUnavailable

    with app_client(sqlite_url) as client:

        async def down(rows):
            raise StoreUnavailable("gone")

        monkeypatch.setattr(client.app.state.services.store, "add_events", down)
        r = client.post("/api/track", json={"event_name": "page_view", "event_id": "e1"})
        assert r.status_code == 503 and r.headers["retry-after"] and r.json()["error"]
        assert r.headers["set-cookie"].startswith("anon_id=")
        assert r.headers["x-content-type-options"] == "nosniff"
    assert row_counts(sqlite_url) == (0, 0)


def test_an_unexpected_error_on_the_hot_path_is_a_json_500(sqlite_url, monkeypatch):
    from support import app_client

    from leadtrail.routes import track

    def broken(body):
        raise RuntimeError("bug")

    monkeypatch.setattr(track, "parse_track_body", broken)
    with app_client(sqlite_url) as client:
        r = client.post("/api/track", json={"event_name": "page_view"})
        assert r.status_code == 500 and r.json() == {"error": "internal error", "details": []}
        assert r.headers["x-content-type-options"] == "nosniff"
