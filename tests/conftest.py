"""Shared fixtures: databases (real SQLite, real PostgreSQL), Chromium, a live `leadtrail serve`.

Fixtures
  pg_server                    session: PgServer (tests/pgserver.py), started once per run
  pg_url                       fresh PostgreSQL database per test, dropped afterwards
  sqlite_url                   sqlite:///<tmp_path>/leadtrail.db
  database_url                 parametrised: ids "sqlite" and "postgres"
                               (LEADTRAIL_TEST_DATABASES=sqlite skips postgres)
  browser                      module: headless Debian Chromium (tests/browser.py)
  new_page(**context_kwargs)   a page in a fresh context, error-checked and screenshotted
  page                         new_page() for the common one-visitor case
  page_errors                  the list page errors/console errors are collected into
  start_server(url, *args, env=None)   launches `python -m leadtrail serve` -> LiveServer; after a
                               browser test, no journey it holds may be spam (tests/spamguard.py)
  live_server                  start_server(database_url)
  owner_db                     database_url with the dashboard's owner account created
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

# tests/ is on sys.path through pytest's `pythonpath` setting (pyproject.toml), and leadtrail
# itself is installed (editable) in the venv: `make test` installs it before running pytest.
from browser import launch, new_context, screenshot_path
from pgserver import PgServer, free_port

TEST_SECRET_KEY = "leadtrail-test-secret-key-0123456789abcdef0123456789abcdef"


def _wanted_databases() -> set[str]:
    raw = os.environ.get("LEADTRAIL_TEST_DATABASES", "sqlite,postgres")
    return {part.strip() for part in raw.split(",") if part.strip()}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_page_errors: the page fixture does not fail the test on page/console errors"
    )
    config.addinivalue_line(
        "markers",
        "spam_expected: a browser test that files spam on purpose, a bot's visit or a seeded spam list"
        " (tests/spamguard.py skips it)",
    )


def pytest_collection_modifyitems(items):
    # Anything that opens Chromium is a browser test, marked or not, so `-m "not browser"` works.
    for item in items:
        if {"browser", "page", "new_page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


# -- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server():
    server = PgServer()
    # atexit as well as the finalizer: covers an interrupted run that never reaches teardown.
    atexit.register(server.destroy)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg_url(pg_server):
    # A fault test may have left the server stopped or killed; bring it back first.
    pg_server.start()
    name = f"t_{uuid.uuid4().hex}"
    url = pg_server.create_database(name)
    yield url
    pg_server.start()
    pg_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/leadtrail.db"


_skip_postgres = pytest.mark.skipif(
    "postgres" not in _wanted_databases(), reason="LEADTRAIL_TEST_DATABASES excludes postgres"
)
_skip_sqlite = pytest.mark.skipif(
    "sqlite" not in _wanted_databases(), reason="LEADTRAIL_TEST_DATABASES excludes sqlite"
)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=_skip_sqlite, id="sqlite"),
        pytest.param("postgres", marks=_skip_postgres, id="postgres"),
    ]
)
def database_url(request):
    # getfixturevalue: the PostgreSQL server starts only when a postgres test actually runs.
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def owner_db(database_url):
    """database_url with the dashboard's owner (test_dashboard_helpers.OWNER_EMAIL) created."""
    from support import run_store
    from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD

    from leadtrail.accounts.users import create_user

    run_store(database_url, lambda store: create_user(store, OWNER_EMAIL, OWNER_PASSWORD))
    return database_url


# -- browser -------------------------------------------------------------------------------


# Sync Playwright keeps its own event loop marked as running on the main thread between calls
# (by design: its dispatcher greenlet is suspended inside run_forever), so asyncio.run() on that
# thread refuses to start while a browser is open. Hence one browser per module, closed when the
# module ends (later modules, and code under test such as the CLI, may use asyncio.run freely),
# and support.run_async(), which runs a coroutine on a thread of its own, for the browser modules.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_errors():
    """Page errors and console errors seen by this test's pages. A test that expects some
    can assert on them and clear() the list, or use @pytest.mark.allow_page_errors."""
    return []


@pytest.fixture
def new_page(browser, request, page_errors):
    contexts, pages = [], []

    def make(**context_kwargs):
        ctx = new_context(browser, **context_kwargs)
        pg = ctx.new_page()
        n = len(pages) + 1
        pg.on("pageerror", lambda exc: page_errors.append(f"page {n}: pageerror: {exc}"))
        pg.on("console", lambda msg: _console_error(msg, n, page_errors))
        contexts.append(ctx)
        pages.append(pg)
        return pg

    yield make

    for i, pg in enumerate(pages, 1):
        name = request.node.name if i == 1 else f"{request.node.name}-{i}"
        try:
            path = screenshot_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(path), full_page=True)
        except Exception:  # a closed or crashed page must not hide the real failure
            pass
    for ctx in contexts:
        try:
            ctx.close()
        except Exception:
            pass
    if page_errors and not request.node.get_closest_marker("allow_page_errors"):
        pytest.fail("errors in the browser:\n  " + "\n  ".join(page_errors), pytrace=False)


def _console_error(msg, n, sink):
    if msg.type != "error":
        return
    # Chromium asks every origin for /favicon.ico; a 404 there says nothing about the page.
    if (msg.location or {}).get("url", "").endswith("/favicon.ico"):
        return
    where = (msg.location or {}).get("url", "")
    sink.append(f"page {n}: console.error: {msg.text}" + (f" ({where})" if where else ""))


@pytest.fixture
def page(new_page):
    return new_page()


# -- live server ---------------------------------------------------------------------------


class LiveServer:
    """A `python -m leadtrail serve` subprocess. stdout+stderr go to a file: .logs()."""

    def __init__(self, proc: subprocess.Popen, port: int, logfile: Path, database_url: str):
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.database_url = database_url
        self.logfile = logfile

    def logs(self) -> str:
        return self.logfile.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` and wait; SIGKILL the whole group if it will not exit. Returns the
        exit code (negative = died of that signal; uvicorn re-raises SIGTERM after a
        graceful shutdown, so a clean stop is 0 or -SIGTERM)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.proc.wait()
        self._kill_group()  # workers left behind by a parent that died
        return self.proc.returncode

    def _kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _get_status(url: str, timeout: float = 1.0) -> int | None:
    # No proxies: a developer's http_proxy must not intercept 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return None


@pytest.fixture
def start_server(tmp_path_factory, request):
    started: list[LiveServer] = []

    def start(database_url: str, *extra_args: str, env: dict | None = None, timeout: float = 20.0) -> LiveServer:
        workdir = tmp_path_factory.mktemp("server")
        port = free_port()
        # The app reads LEADTRAIL_* only: drop the developer's own so runs are hermetic.
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEADTRAIL_")}
        full_env.update(
            PYTHONUNBUFFERED="1",
            LEADTRAIL_SECRET_KEY=TEST_SECRET_KEY,
        )
        for k, v in (env or {}).items():  # a value of None removes the variable
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        argv = [
            sys.executable,
            "-m",
            "leadtrail",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            database_url,
            *extra_args,
        ]
        logfile = workdir / "server.log"
        with open(logfile, "wb") as log:
            proc = subprocess.Popen(
                argv,
                env=full_env,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LiveServer(proc, port, logfile, database_url)
        started.append(server)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"leadtrail serve exited with {proc.returncode} before /healthz answered:\n"
                    f"$ {' '.join(argv)}\n{server.logs()}",
                    pytrace=False,
                )
            if _get_status(server.url + "/healthz") == 200:
                return server
            if time.monotonic() > deadline:
                server.stop(signal.SIGKILL)
                pytest.fail(
                    f"leadtrail serve: /healthz not 200 after {timeout}s:\n$ {' '.join(argv)}\n{server.logs()}",
                    pytrace=False,
                )
            time.sleep(0.1)

    yield start

    try:
        # Every human-like flow in a real browser scores below SPAM_THRESHOLD (tests/spamguard.py).
        if request.node.get_closest_marker("browser") and not request.node.get_closest_marker("spam_expected"):
            import spamguard

            problems = [p for server in started for p in spamguard.check(request.node.nodeid, server.database_url)]
            if problems:
                pytest.fail("\n".join(problems), pytrace=False)
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def live_server(start_server, database_url):
    return start_server(database_url)
