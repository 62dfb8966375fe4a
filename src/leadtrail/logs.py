"""Logging for `leadtrail serve` and its workers: lines for people (LOG_FORMAT=text) or one JSON
object per line for a log collector (LOG_FORMAT=json), on standard error.

A JSON line holds `time` (ISO 8601 UTC), `level`, `logger`, `message`, every field passed with
`extra={...}`, and `exception` when there is one. Nothing personal is logged: no e-mail
addresses, no client addresses (uvicorn's access log stays off), no cookie values.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def record_fields(record: logging.LogRecord, exception_text: str | None = None) -> dict[str, Any]:
    """The JSON object of one record (pure: the caller formats the exception, if any)."""
    fields: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_") and key not in fields:
            fields[key] = value
    if exception_text:
        fields["exception"] = exception_text
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        exception_text = self.formatException(record.exc_info) if record.exc_info else None
        return orjson.dumps(record_fields(record, exception_text), default=str).decode()


def configure(level: str, fmt: str) -> None:
    """One handler on the root logger; uvicorn's loggers (run with log_config=None) propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True  # it would log client addresses
