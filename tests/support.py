"""Helpers for tests that talk to the app in-process and look at the database directly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from browser import CHROME_UA
from starlette.testclient import TestClient

from leadtrail.settings import Settings, load_settings

T = TypeVar("T")

TEST_SECRET = "leadtrail-test-secret-key-0123456789abcdef"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: a fixed key, no rate limit, no random prune, unless overridden."""
    values = dict(database_url=database_url, secret_key=TEST_SECRET, rate_limit=0, prune_probability=0.0)
    values.update(overrides)
    return load_settings(values, env={})


@contextmanager
def app_client(database_url: str, **overrides: Any) -> Iterator[TestClient]:
    """The whole app in-process (lifespan included), speaking as an ordinary Chrome browser: its
    user agent and a Sec-Fetch-Mode header (without any, a promote with no trace of the tracker is
    scored as sent by a program: spam.from_browser)."""
    from leadtrail.app import create_app

    settings = make_settings(database_url, **overrides)
    headers = {"User-Agent": CHROME_UA, "Sec-Fetch-Mode": "cors"}
    with TestClient(create_app(settings), headers=headers) as client:
        yield client


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on a thread of its own. In a browser test module the sync Playwright keeps
    its event loop marked as running on the main thread, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(1, thread_name_prefix="run_async") as pool:
        return pool.submit(asyncio.run, main).result()


def run_store(database_url: str, work) -> Any:
    """Runs `work(store)` against the database with a store of its own."""
    from leadtrail.store import open_store

    async def go():
        store = await open_store(make_settings(database_url))
        try:
            await store.migrate()
            return await work(store)
        finally:
            await store.close()

    return run_async(go())


def row_counts(database_url: str) -> tuple[int, int]:
    """(session_events rows, submission_journeys rows)."""

    async def counts(store):
        return await store.count("events"), await store.count("journeys")

    return run_store(database_url, counts)


def page_view(path: str = "/", event_id: str | None = None, **params: Any) -> dict:
    event: dict[str, Any] = {"event_name": "page_view", "page_path": path, "params": params}
    if event_id:
        event["event_id"] = event_id
    return event


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def anon_id_of(client: TestClient) -> str | None:
    value = client.cookies.get("anon_id")
    return value.split(".", 1)[0] if value else None


def buffered_events(database_url: str, anon_id: str) -> list[dict]:
    """Every stored event of one visitor, expired or not, oldest first."""
    return run_store(database_url, lambda store: store.snapshot_events(anon_id, since=EPOCH))


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> None:
    """Polls `condition` until it is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not true after {timeout} s"
        time.sleep(0.02)


def wait_for_background(client: TestClient, timeout: float = 10.0) -> None:
    """Waits until the app's background tasks (the promote's late look, ...) have all finished."""
    services = client.app.state.services  # type: ignore[attr-defined]  # TestClient.app is an ASGI callable
    wait_until(lambda: not services.background, timeout, "the app's background tasks finished")
