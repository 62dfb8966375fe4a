"""One Settings object, built from command-line flags and LEADTRAIL_* environment variables.

Flags win over the environment, the environment wins over defaults. Nothing else in the package
reads os.environ.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .localtime import canonical_zone_name, zone

ENV_PREFIX = "LEADTRAIL_"
DEFAULT_DATABASE_URL = "sqlite:///./leadtrail.db"


class SettingsError(ValueError):
    """A setting has a value leadtrail cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    demo: bool = False
    event_ttl: int = 86400
    journey_retention: int | None = None
    allowed_origins: tuple[str, ...] = ()
    prune_probability: float = 0.01
    prune_interval: int = 300
    prune_batch: int = 5000
    trusted_proxies: tuple[str, ...] = ()
    honor_gpc: bool = True
    rate_limit: int = 600
    log_level: str = "info"
    log_format: str = "text"
    timezone: str = "UTC"  # IANA name; the dashboard shows times and groups days in it
    # New-enquiry webhook: empty = off. Kept out of repr: such URLs often carry a token.
    webhook_url: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)  # signs each delivery (HMAC-SHA256) when set
    # The server's own limits (server.py): open connections per process, seconds for a request head.
    max_connections: int = 1000
    head_timeout: int = 10
    promote_limit: int = 6  # new enquiries a minute from one client address (bursts of 20); 0 = off
    min_free_disk_mb: int = 200  # SQLite: new journeys refused (503) below this much free disk; 0 = off
    # Added in 0.2 (docs/contract.md): attribution across weeks, the lead desk.
    touch_memory_days: int = 90  # the visitor's browser remembers earlier visits this long; 0 = off
    smtp_url: str = field(default="", repr=False)  # smtp://user:pass@host:587 or smtps://...:465; empty = no e-mail
    smtp_from: str = ""  # the sender of leadtrail's e-mails
    notify_emails: tuple[str, ...] = ()  # who hears about each new enquiry that is not spam
    notify_digest: str = "off"  # off, daily or weekly
    currency: str = "USD"  # ISO 4217 code of enquiry values
    spam_threshold: int = 70  # a new enquiry whose spam score reaches this is filed as spam
    # Where the owner reaches leadtrail (https://stats.example.com, or .../leadtrail behind a path):
    # the links in e-mails and webhooks. Empty: links only from a promote's origin that can be
    # believed (webhook.journey_link), none in the digest.
    base_url: str = ""
    # Not settable from the outside: parsed forms of the above.
    trusted_networks: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def tz(self) -> tzinfo:
        """The owner's time zone (TIMEZONE, checked when the settings were loaded)."""
        return zone(self.timezone)

    @property
    def sqlite_path(self) -> str:
        return sqlite_path_from_url(self.database_url)


def sqlite_path_from_url(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise SettingsError(f"DATABASE_URL: expected sqlite:///path or postgresql://..., got {url!r}")
    return url[len("sqlite:///") :] or "leadtrail.db"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _parse_int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.replace(" ", ",").split(",") if part.strip())


# Settings that take one of a few words.
CHOICES = {
    "log_level": ("debug", "info", "warning", "error"),
    "log_format": ("text", "json"),
    "notify_digest": ("off", "daily", "weekly"),
}


def _coerce(name: str, raw: Any) -> Any:
    """Turn a raw flag or environment value into the type of the named setting."""
    label = ENV_PREFIX + name.upper()
    if name in ("demo", "honor_gpc"):
        return raw if isinstance(raw, bool) else _parse_bool(label, str(raw))
    if name == "port":
        value = _parse_int(label, raw, minimum=1)
        if value > 65535:
            raise SettingsError(f"{label}: a TCP port is 1-65535, got {value}")
        return value
    if name in ("max_connections", "head_timeout"):
        return _parse_int(label, raw, minimum=1)
    if name in ("workers", "event_ttl", "prune_interval", "prune_batch"):
        return _parse_int(label, raw, minimum=1)
    if name in ("rate_limit", "touch_memory_days", "min_free_disk_mb", "promote_limit"):
        return _parse_int(label, raw, minimum=0)
    if name == "spam_threshold":
        score = _parse_int(label, raw, minimum=1)
        if score > 101:
            raise SettingsError(f"{label}: a spam score is 0-100; use 1-100 (101 files nothing as spam), got {score}")
        return score
    if name == "currency":
        code = str(raw).strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise SettingsError(f"{label}: expected a three-letter ISO 4217 code such as USD, EUR or GBP, got {raw!r}")
        return code
    if name == "smtp_url":
        return _parse_smtp_url(label, str(raw))
    if name == "smtp_from":
        sender = str(raw).strip()
        if sender and ("@" not in sender or any(ord(ch) < 32 for ch in sender)):
            raise SettingsError(f"{label}: expected an address such as 'leadtrail <leads@example.com>', got {raw!r}")
        return sender
    if name == "notify_emails":
        addresses = raw if isinstance(raw, tuple) else _parse_list(str(raw))
        for address in addresses:
            if address.count("@") != 1 or address.startswith("@") or address.endswith("@"):
                raise SettingsError(f"{label}: {address!r} is not an e-mail address")
        return tuple(a.lower() for a in addresses)
    if name == "journey_retention":
        if raw is None or str(raw).strip() == "":
            return None
        return _parse_int(label, raw, minimum=1)
    if name == "prune_probability":
        try:
            probability = float(raw)
        except ValueError:
            raise SettingsError(f"{label}: expected a number between 0 and 1, got {raw!r}") from None
        if not 0.0 <= probability <= 1.0:
            raise SettingsError(f"{label}: expected a number between 0 and 1, got {raw!r}")
        return probability
    if name in CHOICES:
        choice = str(raw).strip().lower()
        if choice not in CHOICES[name]:
            raise SettingsError(f"{label}: expected one of {', '.join(CHOICES[name])}, got {raw!r}")
        return choice
    if name == "database_url":
        url = str(raw).strip()
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise SettingsError(
                f"{label}: expected sqlite:///path/to/file.db or postgresql://user:pass@host:port/db, "
                f"got {url.split('://', 1)[0] + '://...' if '://' in url else url!r}"
            )
        return url
    if name == "timezone":
        try:
            return canonical_zone_name(str(raw))
        except ValueError:
            raise SettingsError(
                f"{label}: {str(raw).strip()!r} is not a time zone leadtrail knows; use an IANA "
                f"name such as Europe/London, America/New_York or UTC"
            ) from None
    if name == "webhook_url":
        return _parse_webhook_url(label, str(raw))
    if name == "base_url":
        return _parse_base_url(label, str(raw))
    if name == "webhook_secret":
        secret = str(raw).strip()
        if secret and len(secret) < 16:
            raise SettingsError(f"{label}: use at least 16 characters (32 random bytes is best), or leave it unset")
        return secret
    if name in ("allowed_origins", "trusted_proxies"):
        return raw if isinstance(raw, tuple) else _parse_list(str(raw))
    return str(raw)


def _parse_webhook_url(label: str, raw: str) -> str:
    """An http(s) URL with a host, or empty (webhook off). The message never repeats the whole
    value: a webhook URL often holds a token."""
    value = raw.strip()
    if not value:
        return ""
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    problem = None
    if scheme not in ("http", "https"):
        problem = "expected an http:// or https:// URL" + (f", got {scheme}://..." if scheme else "")
    elif any(ch.isspace() or ord(ch) < 32 for ch in value):
        problem = "the URL holds a space or control character"
    else:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
        except ValueError:
            parts, problem = None, "the URL cannot be parsed (is the port a number?)"
        if parts is not None and not parts.hostname:
            problem = "the URL has no host"
        elif parts is not None and parts.fragment:
            problem = "the URL has a #fragment, which is never sent"
    if problem:
        raise SettingsError(f"{label}: {problem}; use e.g. https://hooks.example.com/leadtrail")
    return value


def _parse_base_url(label: str, raw: str) -> str:
    """The dashboard's public address without a trailing slash: http(s), a host, maybe a path
    prefix; no query or fragment (links are made by appending /cp/...). Empty: unset."""
    value = raw.strip().rstrip("/")
    if not value:
        return ""
    example = "use e.g. https://stats.example.com (where the dashboard is /cp/)"
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise SettingsError(f"{label}: the URL holds a space or control character; {example}")
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        raise SettingsError(f"{label}: the URL cannot be parsed (is the port a number?); {example}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{label}: expected an http:// or https:// URL with a host; {example}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SettingsError(f"{label}: no user, query or #fragment in it; {example}")
    return value


def _parse_smtp_url(label: str, raw: str) -> str:
    """smtp://[user:pass@]host[:port] or smtps://..., or empty (no e-mail). The message never
    repeats the value: it holds a password."""
    value = raw.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise SettingsError(f"{label}: the URL cannot be parsed (is the port a number?)") from None
    if parts.scheme.lower() not in ("smtp", "smtps"):
        raise SettingsError(f"{label}: expected smtp://user:pass@host:587 or smtps://user:pass@host:465")
    if not parts.hostname:
        raise SettingsError(f"{label}: the URL has no host; use e.g. smtp://user:pass@mail.example.com:587")
    return value


def _normalise_origin(origin: str) -> str:
    origin = origin.strip().rstrip("/").lower()
    if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
        raise SettingsError(f"LEADTRAIL_ALLOWED_ORIGINS: {origin!r} is not an origin like https://www.example.com")
    return origin


def _parse_networks(entries: tuple[str, ...]) -> tuple[Any, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise SettingsError(
                f"LEADTRAIL_TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from None
    return tuple(networks)


SETTABLE = tuple(f.name for f in fields(Settings) if f.name != "trusted_networks")


def load_settings(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from flags (None means not given) over LEADTRAIL_* variables over defaults."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for name in SETTABLE:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(name, raw)
    for name, raw in (flags or {}).items():
        if raw is not None and name in SETTABLE:
            values[name] = _coerce(name, raw)
    settings = Settings(**values)
    origins = tuple(_normalise_origin(o) for o in settings.allowed_origins)
    return replace(
        settings,
        allowed_origins=origins,
        trusted_networks=_parse_networks(settings.trusted_proxies),
    )


def demo_secret_path(settings: Settings) -> Path:
    """Where a demo run keeps the secret key it made: beside the SQLite file, or in the cwd."""
    if settings.is_postgres:
        return Path(".leadtrail-demo.secret")
    return Path(settings.sqlite_path + ".secret")


def with_secret_key(settings: Settings) -> Settings:
    """Return settings that hold a secret key, or raise: none outside demo mode is refused."""
    if settings.secret_key:
        if len(settings.secret_key) < 16:
            raise SettingsError("LEADTRAIL_SECRET_KEY: use at least 16 characters (32 random bytes is best)")
        return settings
    if not settings.demo:
        raise SettingsError(
            "LEADTRAIL_SECRET_KEY is not set. It signs visitor and session cookies and must stay "
            "the same across restarts. Create one with:\n"
            "  python3 -c 'import secrets; print(secrets.token_urlsafe(32))'\n"
            "and pass it as LEADTRAIL_SECRET_KEY (or run with --demo to try leadtrail out)."
        )
    path = demo_secret_path(settings)
    if path.exists():
        key = path.read_text().strip()
    else:
        key = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key + "\n")
        path.chmod(0o600)
    return replace(settings, secret_key=key)


def to_env(settings: Settings) -> dict[str, str]:
    """The LEADTRAIL_* variables that reproduce these settings (for worker processes)."""
    env: dict[str, str] = {}
    for name in SETTABLE:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[ENV_PREFIX + name.upper()] = str(value)
    return env
