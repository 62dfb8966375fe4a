"""The `leadtrail` command line with a real database."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from support import run_store

from leadtrail.cli import main
from leadtrail.store import EventRow, JourneyRecord, utcnow


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, env={"LEADTRAIL_SECRET_KEY": None}, catch_exceptions=False)


def test_migrate_applies_then_show_lists_applied(database_url):
    """`migrate` applies every migration once; `migrate --show` lists each as applied."""
    first = invoke("migrate", "--database-url", database_url)
    from leadtrail.store.migrations import migration_names

    assert first.exit_code == 0 and f"applied {len(migration_names())} migration(s)" in first.output
    again = invoke("migrate", "--database-url", database_url)
    assert "applied 0 migration" in again.output
    show = invoke("migrate", "--show", "--database-url", database_url)
    lines = show.output.strip().splitlines()
    assert lines and all(line.startswith("applied") for line in lines)
    assert any("initial" in line for line in lines)


def test_prune_deletes_only_expired_events_and_prints_the_count(database_url):
    """`prune` deletes events past EVENT_TTL, keeps the rest and says how many it deleted."""
    now = utcnow()
    run_store(
        database_url,
        lambda store: store.add_events(
            [EventRow("v", "old", "/", "{}", now - timedelta(hours=25))] * 1
            + [EventRow("v", "old2", "/", "{}", now - timedelta(hours=30))]
            + [EventRow("v", "new", "/", "{}", now - timedelta(hours=1))]
        ),
    )
    result = invoke("prune", "--database-url", database_url)
    assert result.exit_code == 0
    assert "deleted 2 expired event(s)" in result.output
    assert run_store(database_url, lambda store: store.count("events")) == 1


def _seed_journey(database_url: str, email: str, anon_id: str | None = "v1") -> None:
    now = utcnow()
    events = [
        {
            "id": 1,
            "event_name": "page_view",
            "page_path": "/?utm_source=newsletter&utm_medium=email",
            "params": {"title": "Home", "event_id": "a"},
            "created_at": (now - timedelta(minutes=50)).isoformat(),
        },
        {
            "id": 2,
            "event_name": "page_view",
            "page_path": "/services",
            "params": {"title": "Services", "referrer": "https://www.google.com", "event_id": "b"},
            "created_at": (now - timedelta(minutes=5)).isoformat(),
        },
    ]
    client = [{"event_name": "page_view", "page_path": "/book", "params": {}, "event_id": "c", "ts": None}]
    run_store(
        database_url,
        lambda store: store.save_journey(
            JourneyRecord(email, anon_id, events, client, "booking", True, {}), now, timedelta(minutes=10)
        ),
    )


def test_export_prints_journeys_with_visits_and_channels(database_url):
    """`export --email` prints every journey of the address (any case) reconstructed, as JSON."""
    _seed_journey(database_url, "ann@example.com")
    _seed_journey(database_url, "other@example.com")
    result = invoke("export", "--email", "ANN@Example.com", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["email"] == "ann@example.com"
    [journey] = doc["journeys"]
    assert journey["form"] == "booking" and journey["consent"] is True
    assert [v["channel"] for v in journey["visits"]] == ["Email", "Organic Search"]
    assert {e["source"] for e in journey["timeline"]} == {"server", "client"}
    assert journey["summary"]["visits"] == 2


def test_erase_deletes_every_journey_of_the_address(database_url):
    """`erase --email` deletes that address's journeys only and prints how many."""
    _seed_journey(database_url, "bob@example.com")
    _seed_journey(database_url, "bob@example.com", anon_id=None)
    _seed_journey(database_url, "keep@example.com", anon_id="v2")
    result = invoke("erase", "--email", "Bob@Example.com", "--database-url", database_url)
    assert result.exit_code == 0 and "erased 2 journey(s)" in result.output
    assert (
        json.loads(invoke("export", "--email", "bob@example.com", "--database-url", database_url).output)["journeys"]
        == []
    )
    assert run_store(database_url, lambda store: store.count("journeys")) == 1


def test_bad_email_argument_is_a_usage_error(sqlite_url):
    """A malformed --email is refused with a message and exit code 2, and nothing runs."""
    result = CliRunner().invoke(main, ["erase", "--email", "nope", "--database-url", sqlite_url])
    assert result.exit_code == 2 and "not an e-mail address" in result.output


def _owner_with_sessions(database_url: str, sessions: int) -> list[str]:
    from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD

    from leadtrail.accounts.owner import Owner
    from leadtrail.accounts.sessions import start_session
    from leadtrail.accounts.users import create_user

    async def work(store):
        owner_id = await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)
        owner = Owner(owner_id, OWNER_EMAIL)
        return [await start_session(store, owner) for _ in range(sessions)]

    return run_store(database_url, work)


def _authenticates(database_url: str, password: str) -> bool:
    from test_dashboard_helpers import OWNER_EMAIL

    from leadtrail.accounts.passwords import authenticate

    return run_store(database_url, lambda store: authenticate(store, OWNER_EMAIL, password)) is not None


def _live_sessions(database_url: str, tokens: list[str]) -> int:
    from leadtrail.accounts.sessions import session_owner

    async def work(store):
        return sum([await session_owner(store, token) is not None for token in tokens])

    return run_store(database_url, work)


def test_user_passwd_sets_a_new_password_and_ends_every_session(database_url):
    """`user passwd EMAIL --password-stdin` (any case) replaces the password: the old one stops
    working, the new one works, and every session of that owner has ended."""
    from test_dashboard_helpers import OWNER_PASSWORD

    tokens = _owner_with_sessions(database_url, 2)
    assert _live_sessions(database_url, tokens) == 2
    result = invoke(
        "user",
        "passwd",
        "Owner@Studio.example",
        "--password-stdin",
        "--database-url",
        database_url,
        input="a quieter lighthouse at dawn\n",
    )
    assert result.exit_code == 0, result.output
    assert "changed the password of owner@studio.example; ended 2 session(s)" in result.output
    assert _live_sessions(database_url, tokens) == 0
    assert not _authenticates(database_url, OWNER_PASSWORD)
    assert _authenticates(database_url, "a quieter lighthouse at dawn")


def test_user_passwd_prompts_twice_without_stdin(sqlite_url):
    _owner_with_sessions(sqlite_url, 0)
    result = invoke(
        "user",
        "passwd",
        "owner@studio.example",
        "--database-url",
        sqlite_url,
        input="a quieter lighthouse at dawn\na quieter lighthouse at dawn\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("New password") == 1 and "Repeat for confirmation" in result.output
    assert _authenticates(sqlite_url, "a quieter lighthouse at dawn")


def test_user_passwd_refuses_an_unknown_address_and_a_weak_password(database_url):
    """An unknown (or malformed) address is exit code 1 with a clear message, before any password
    is asked for; a weak password is refused by user add's rules; nothing changes."""
    from test_dashboard_helpers import OWNER_PASSWORD

    tokens = _owner_with_sessions(database_url, 1)
    unknown = invoke("user", "passwd", "nobody@studio.example", "--database-url", database_url)
    assert unknown.exit_code == 1
    assert "no owner account has the address 'nobody@studio.example'" in unknown.output
    assert "New password" not in unknown.output  # no prompt before the address is known
    malformed = invoke(
        "user",
        "passwd",
        "not-an-address",
        "--password-stdin",
        "--database-url",
        database_url,
        input="a quieter lighthouse at dawn\n",
    )
    assert malformed.exit_code == 1 and "no owner account" in malformed.output
    weak = invoke(
        "user", "passwd", "owner@studio.example", "--password-stdin", "--database-url", database_url, input="short\n"
    )
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    assert _authenticates(database_url, OWNER_PASSWORD) and _live_sessions(database_url, tokens) == 1


def test_user_passwd_with_the_secret_key_lifts_a_login_lock_out(sqlite_url):
    """After too many failed logins, a reset made with the server's secret key lets the owner in at once."""
    from support import TEST_SECRET, app_client
    from test_dashboard_helpers import login

    _owner_with_sessions(sqlite_url, 0)
    with app_client(sqlite_url) as client:
        for _ in range(5):
            login(client, password="wrong password!!")
        assert login(client, password="a quieter lighthouse at dawn").status_code == 429
        result = CliRunner().invoke(
            main,
            ["user", "passwd", "owner@studio.example", "--password-stdin", "--database-url", sqlite_url],
            input="a quieter lighthouse at dawn\n",
            env={"LEADTRAIL_SECRET_KEY": TEST_SECRET},
        )
        assert result.exit_code == 0, result.output
        assert login(client, password="a quieter lighthouse at dawn").status_code == 303


def test_serve_refuses_to_start_without_a_secret_key(sqlite_url):
    """Outside demo mode, serve exits with a clear message when no secret key is set."""
    result = CliRunner().invoke(main, ["serve", "--database-url", sqlite_url], env={"LEADTRAIL_SECRET_KEY": ""})
    assert result.exit_code == 1
    assert "LEADTRAIL_SECRET_KEY is not set" in result.output


def test_an_unusable_database_url_is_a_clear_error_not_a_traceback():
    """A DATABASE_URL that is neither sqlite:/// nor postgresql:// exits 1 naming the setting."""
    result = CliRunner().invoke(main, ["prune", "--database-url", "mysql://db.example/leadtrail"])
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None)))
    assert "LEADTRAIL_DATABASE_URL" in result.output and "Traceback" not in result.output


def test_make_run_serves_on_another_port_when_asked():
    """`make run PORT=8001` or `LEADTRAIL_PORT=8001 make run`; the flag in the Makefile used to
    override LEADTRAIL_PORT, and an exported HOST or PORT of the shell must not move it."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    if shutil.which("make") is None:
        pytest.skip("no make")
    root = Path(__file__).resolve().parent.parent
    base = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT") and not k.startswith("LEADTRAIL_")}

    def serve_line(*args, **env):
        out = subprocess.run(
            ["make", "-n", "run", *args], cwd=root, env={**base, **env}, capture_output=True, text=True, check=True
        ).stdout
        return [line for line in out.splitlines() if "leadtrail serve" in line][-1]

    assert serve_line().endswith("--host 127.0.0.1 --port 8000")
    assert serve_line("PORT=8001").endswith("--host 127.0.0.1 --port 8001")
    assert serve_line(LEADTRAIL_PORT="8002").endswith("--port 8002")
    assert serve_line(HOST="build-box.example", PORT="9").endswith("--host 127.0.0.1 --port 8000")
