"""Several server processes on one database: every event acknowledged is stored exactly once.

Clients spread their batches over the processes (alternating, so one visitor's batches and their
resends land on different processes), and every fifth batch is sent twice, to the other process
the second time: the database's unique (anon_id, event_id) index, not any one process, has to
keep it once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from trackclient import NO_LIMIT, ResendingVisitor, assert_exactly_once, run_visitors, stored_ids, wait_for


def check(visitors: list[ResendingVisitor], database_url: str) -> None:
    for v in visitors:
        assert not v.unexpected, v.unexpected[:5]
        assert not v.given_up
        assert set(v.statuses) == {204}, v.statuses  # no faults here: nothing but 204
    assert sum(v.resent for v in visitors) > 0
    sent = set().union(*(v.sent for v in visitors))
    acked = set().union(*(v.acked for v in visitors))
    stored = stored_ids(database_url)
    assert_exactly_once(stored, acked, sent)
    assert len(stored) == len(acked) == len(sent)


def worker_pids(server) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.proc.pid:
            children.append(int(stat.parent.name))
    return children


def test_two_server_processes_on_one_postgres_store_each_event_once(pg_url, start_server):
    a = start_server(pg_url, env=NO_LIMIT)
    b = start_server(pg_url, env=NO_LIMIT)
    visitors = run_visitors([a.url, b.url])  # each visitor alternates between the two
    check(visitors, pg_url)
    assert a.proc.poll() is None and b.proc.poll() is None


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_workers_2_store_each_event_exactly_once(dialect, request, start_server):
    """`leadtrail serve --workers 2`: two worker processes behind one port."""
    url = request.getfixturevalue("pg_url" if dialect == "postgres" else "sqlite_url")
    server = start_server(url, "--workers", "2", env=NO_LIMIT)
    wait_for(lambda: len(worker_pids(server)) >= 2, 20, "two worker processes")
    visitors = run_visitors([server.url])
    check(visitors, url)
