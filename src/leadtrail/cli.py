"""The `leadtrail` command: serve, migrate, prune, user add|list|remove|passwd, export, erase, token, notify test."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import orjson

from .settings import Settings, SettingsError, load_settings, to_env, with_secret_key

T = TypeVar("T")

database_option = click.option(
    "--database-url",
    default=None,
    help="sqlite:///path or postgresql://user:pass@host:port/db [LEADTRAIL_DATABASE_URL]",
)


def resolve(need_secret: bool = False, **flags: Any) -> Settings:
    try:
        settings = load_settings(flags)
        return with_secret_key(settings) if need_secret else settings
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def with_store(settings: Settings, work: Callable[[Any], Awaitable[T]], migrate: bool = True) -> T:
    from .store import StoreUnavailable, open_store

    async def run() -> T:
        store = await open_store(settings)
        try:
            if migrate:
                await store.migrate()
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreUnavailable as exc:
        raise click.ClickException(f"database unavailable: {exc}") from None


@click.group()
@click.version_option(package_name="leadtrail")
def main() -> None:
    """leadtrail: the path each enquirer took through your site, kept privately."""


@main.command()
@click.option("--host", default=None, help="interface to listen on [LEADTRAIL_HOST, default 127.0.0.1]")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="port [LEADTRAIL_PORT, default 8000]")
@database_option
@click.option(
    "--demo",
    is_flag=True,
    default=None,
    help="serve the demo site at /demo/ and make a secret key if none is set [LEADTRAIL_DEMO]",
)
@click.option("--workers", default=None, type=int, help="worker processes [LEADTRAIL_WORKERS, default 1]")
def serve(**flags: Any) -> None:
    """Run the server (applies pending migrations first)."""
    import uvicorn

    settings = resolve(need_secret=True, **flags)
    from .logs import configure
    from .server import protocol_for

    configure(settings.log_level, settings.log_format)
    _check_sqlite_directory(settings)
    _check_port_free(settings.host, settings.port)
    applied = with_store(settings, lambda store: store.migrate(), migrate=False)
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}", err=True)
    click.echo(
        f"leadtrail on http://{settings.host}:{settings.port}/ "
        f"({'PostgreSQL' if settings.is_postgres else 'SQLite ' + settings.sqlite_path})",
        err=True,
    )
    if settings.demo:
        click.echo(
            f"demo site: http://{settings.host}:{settings.port}/demo/   dashboard: http://{settings.host}:{settings.port}/cp/",
            err=True,
        )
    common: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level=settings.log_level,
        log_config=None,
        timeout_graceful_shutdown=30,
        http=protocol_for(settings.max_connections, settings.head_timeout),
    )
    if settings.workers > 1:
        os.environ.update(to_env(settings))  # the workers rebuild the same settings from these
        uvicorn.run("leadtrail.app:create_app_from_env", factory=True, workers=settings.workers, **common)
    else:
        from .app import create_app, tune_gc_for_serving

        app = create_app(settings)
        tune_gc_for_serving()
        uvicorn.run(app, **common)


@main.command()
@database_option
@click.option("--show", is_flag=True, help="list migrations and whether each is applied; change nothing")
def migrate(database_url: str | None, show: bool) -> None:
    """Apply pending migrations."""
    settings = resolve(database_url=database_url)
    _check_sqlite_directory(settings)
    if show:
        if not settings.is_postgres and not os.path.exists(settings.sqlite_path):
            raise click.ClickException(
                f"no database at {settings.sqlite_path} (check the path; --show creates nothing)"
            )
        for name, applied_at in with_store(settings, lambda store: store.migrations(), migrate=False):
            click.echo(
                f"{'applied ' + applied_at.isoformat(timespec='seconds') if applied_at else 'pending':32} {name}"
            )
        return
    applied = with_store(settings, lambda store: store.migrate(), migrate=False)
    click.echo(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))


def _check_sqlite_directory(settings: Settings) -> None:
    """A SQLite file in a directory that does not exist is a typo, not a database to create."""
    if settings.is_postgres:
        return
    directory = os.path.dirname(os.path.abspath(settings.sqlite_path))
    if not os.path.isdir(directory):
        raise click.ClickException(f"the directory {directory} does not exist (DATABASE_URL {settings.database_url})")


def _check_port_free(host: str, port: int) -> None:
    """Fails before the banner and the migrations when the address is taken."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror} (another server there? try --port)"
            ) from None


@main.command()
@database_option
def prune(database_url: str | None) -> None:
    """Delete buffered events older than EVENT_TTL (and journeys past JOURNEY_RETENTION)."""
    from .lifecycle import prune as run_prune

    settings = resolve(database_url=database_url)
    result = with_store(settings, lambda store: run_prune(store, settings))
    click.echo(f"deleted {result.events} expired event(s) and {result.journeys} expired journey(s)")


@main.group()
def user() -> None:
    """Dashboard accounts: owners and viewers."""


@user.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["owner", "viewer"]),
    default="owner",
    show_default=True,
    help="viewer: sees every page, changes, erases and downloads nothing",
)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@database_option
def user_add(email: str, role: str, password_stdin: bool, database_url: str | None) -> None:
    """Create a dashboard account (an owner, or with --role viewer a read-only one)."""
    from .accounts.owner import AccountError
    from .accounts.users import create_user

    settings = resolve(database_url=database_url)
    password = _read_password(password_stdin, "Password")
    try:
        with_store(settings, lambda store: create_user(store, email, password, role))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {email.strip().lower()}")


@user.command("list")
@database_option
def user_list(database_url: str | None) -> None:
    """List the dashboard's accounts: address, role, joined, last login."""
    from .accounts import team

    settings = resolve(database_url=database_url)
    rows = with_store(settings, team.members)
    if not rows:
        click.echo("no accounts; make an owner with: leadtrail user add EMAIL", err=True)
    for row in rows:
        last = row["last_login_at"].isoformat(timespec="seconds") if row["last_login_at"] else "never logged in"
        click.echo(f"{row['email']}\t{row['role']}\tjoined {row['created_at'].isoformat(timespec='seconds')}\t{last}")


@user.command("remove")
@click.argument("email")
@database_option
def user_remove(email: str, database_url: str | None) -> None:
    """Delete an account and end its sessions (never the last owner)."""
    from .accounts import team
    from .accounts.owner import AccountError
    from .accounts.users import find_owner

    settings = resolve(database_url=database_url)

    async def remove(store: Any) -> str:
        return await team.remove_member(store, (await find_owner(store, email)).id)

    try:
        removed = with_store(settings, remove)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed {removed}; their sessions have ended")


@user.command("passwd")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="read the new password from standard input")
@database_option
def user_passwd(email: str, password_stdin: bool, database_url: str | None) -> None:
    """Set a new password for an owner who forgot theirs; ends all their sessions."""
    from .accounts.keys import Keys
    from .accounts.owner import AccountError
    from .accounts.users import find_owner, reset_password

    settings = resolve(database_url=database_url)
    # With the secret key at hand, the account's failed logins are forgiven too (no waiting out
    # a lock-out after the reset); without it they simply expire with the throttling window.
    keys = Keys(settings.secret_key) if settings.secret_key else None
    try:
        owner = with_store(settings, lambda store: find_owner(store, email))  # before asking for a password
        password = _read_password(password_stdin, "New password")
        ended = with_store(settings, lambda store: reset_password(store, owner.email, password, keys))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"changed the password of {owner.email}; ended {ended} session(s)")


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _email_argument(email: str) -> str:
    from .ingest import normalise_email, valid_email

    normal = normalise_email(email)
    if not valid_email(normal):
        raise click.BadParameter(f"{email!r} is not an e-mail address", param_hint="--email")
    return normal


@main.command()
@click.option("--email", default=None, help="the enquirer's e-mail address (case-insensitive)")
@click.option("--google-ads", is_flag=True, help="won enquiries with a Google click id, as Google Ads' import CSV")
@click.option("--meta", is_flag=True, help="won enquiries with an e-mail address, as Meta's offline-events CSV")
@click.option("--since", default=None, help="with --google-ads or --meta: enquiries submitted on or after YYYY-MM-DD")
@click.option("--conversion-name", default=None, help="with --google-ads: your Google Ads conversion action's name")
@click.option(
    "--hashed-email", is_flag=True, help="with --google-ads: add the SHA-256 Email column (enhanced conversions)"
)
@database_option
def export(
    email: str | None,
    google_ads: bool,
    meta: bool,
    since: str | None,
    conversion_name: str | None,
    hashed_email: bool,
    database_url: str | None,
) -> None:
    """Print every journey of an address as JSON (right of access), or with --google-ads (--meta)
    the won enquiries as Google Ads' conversion import CSV (Meta's offline-events CSV)."""
    from .export import export_journey
    from .lifecycle import visible_journeys_since
    from .store import utcnow

    if [email is not None, google_ads, meta].count(True) != 1:
        raise click.UsageError("give one of --email EMAIL, --google-ads or --meta")
    if not google_ads and (conversion_name or hashed_email):
        raise click.UsageError("--conversion-name and --hashed-email go with --google-ads")
    if email is not None and since:
        raise click.UsageError("--since goes with --google-ads or --meta")
    settings = resolve(database_url=database_url)
    if google_ads:
        _export_google_ads(settings, since, conversion_name, hashed_email)
        return
    if meta:
        _export_meta(settings, since)
        return
    assert email is not None
    address = _email_argument(email)
    rows = with_store(
        settings, lambda store: store.journeys_by_email(address, visible_journeys_since(settings, utcnow()))
    )
    document = {"email": address, "journeys": [export_journey(row) for row in rows]}
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def _won_journeys_since(settings: Settings, since: str | None) -> list[dict[str, Any]]:
    """The won journeys submitted on or after the local day `since` (YYYY-MM-DD; None: all)."""
    from datetime import UTC, datetime

    from . import contract, outcomes
    from .localtime import day_start

    start = datetime(1970, 1, 1, tzinfo=UTC)
    if since is not None:
        day = contract.day(since)
        if day is None:
            raise click.BadParameter(f"{since!r} {contract.DAY_RULE}", param_hint="--since")
        start = day_start(day, settings.tz)
    return with_store(settings, lambda store: outcomes.won_journeys(store, start))


def _export_meta(settings: Settings, since: str | None) -> None:
    from . import adexport

    click.echo(adexport.meta_csv(_won_journeys_since(settings, since), settings.currency), nl=False)


def _export_google_ads(settings: Settings, since: str | None, name: str | None, hashed_email: bool) -> None:
    from . import adexport

    journeys = _won_journeys_since(settings, since)
    text = adexport.google_ads_csv(
        journeys,
        settings.tz,
        settings.timezone,
        settings.currency,
        name or adexport.DEFAULT_CONVERSION_NAME,
        hashed_email,
    )
    click.echo(text, nl=False)


@main.group()
def token() -> None:
    """API tokens for /api/v1/ (Authorization: Bearer <token>)."""


@token.command("create")
@click.argument("name")
@database_option
def token_create(name: str, database_url: str | None) -> None:
    """Make a token; it is printed once (only its hash is stored)."""
    from . import tokens
    from .store import utcnow

    settings = resolve(database_url=database_url)
    try:
        value = with_store(settings, lambda store: tokens.create_token(store, name, utcnow()))
    except (tokens.TokenNameTaken, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(value)
    click.echo(f"token {name!r} created; it is shown only now: keep it in your integration's secrets", err=True)


@token.command("list")
@database_option
def token_list(database_url: str | None) -> None:
    """List live tokens: name, created, last used."""
    from . import tokens

    settings = resolve(database_url=database_url)
    rows = with_store(settings, tokens.list_tokens)
    if not rows:
        click.echo("no tokens; make one with: leadtrail token create NAME", err=True)
    for row in rows:
        used = row["last_used_at"].isoformat(timespec="seconds") if row["last_used_at"] else "never used"
        click.echo(f"{row['name']}\tcreated {row['created_at'].isoformat(timespec='seconds')}\t{used}")


@token.command("revoke")
@click.argument("name")
@database_option
def token_revoke(name: str, database_url: str | None) -> None:
    """Revoke a token by name; requests with it get 401 from then on."""
    from . import tokens
    from .store import utcnow

    settings = resolve(database_url=database_url)
    if not with_store(settings, lambda store: tokens.revoke_token(store, name, utcnow())):
        raise click.ClickException(f"no live token named {name!r} (see: leadtrail token list)")
    click.echo(f"revoked {name!r}")


@main.group()
def notify() -> None:
    """New-enquiry e-mails and the digest (SMTP_URL, NOTIFY_EMAILS)."""


@notify.command("test")
def notify_test() -> None:
    """Send a test e-mail through SMTP_URL to NOTIFY_EMAILS; exit 1 with the reason when it fails."""
    from .notify import mail, smtp
    from .store import utcnow

    settings = resolve()
    if not settings.smtp_url:
        raise click.ClickException(
            "SMTP_URL is not set: set LEADTRAIL_SMTP_URL=smtp://user:pass@host:587 (or smtps://...:465)"
        )
    if not settings.notify_emails:
        raise click.ClickException("NOTIFY_EMAILS is not set: set LEADTRAIL_NOTIFY_EMAILS=you@example.com[,...]")
    server = smtp.SmtpServer.from_url(settings.smtp_url)
    sender = settings.smtp_from or mail.default_sender(server.username, server.host)
    message = mail.test_message(server.address, sender, settings.notify_emails, settings.notify_digest, utcnow())
    try:
        encrypted = asyncio.run(smtp.send(server, message))
    except smtp.SendFailed as exc:
        raise click.ClickException(f"no e-mail sent: {exc.reason}") from None
    click.echo(
        f"sent a test e-mail through {server.address} ({'encrypted' if encrypted else 'NOT encrypted'}) "
        f"to {', '.join(settings.notify_emails)}"
    )


@main.command()
@click.option("--email", required=True, help="the enquirer's e-mail address (case-insensitive)")
@database_option
def erase(email: str, database_url: str | None) -> None:
    """Delete every journey of an address (right to erasure)."""
    settings = resolve(database_url=database_url)
    address = _email_argument(email)
    count = with_store(settings, lambda store: store.erase_email(address))
    click.echo(f"erased {count} journey(s) of {address}")


if __name__ == "__main__":
    main()
