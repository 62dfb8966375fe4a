"""Logs: text for people, one JSON object per line with LOG_FORMAT=json; nothing personal in them."""

from __future__ import annotations

import http.client
import json
import logging
import sys
import time

from browser import CHROME_UA

from leadtrail.logs import JsonFormatter, record_fields


def _record(msg="journey %d created", args=(7,), **extra) -> logging.LogRecord:
    record = logging.LogRecord("leadtrail.promote", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_record_fields_have_time_level_logger_message_and_extras():
    """The JSON object carries the formatted message and every field given with extra=."""
    fields = record_fields(_record(journey_id=7, outcome="created"))
    assert fields["level"] == "info" and fields["logger"] == "leadtrail.promote"
    assert fields["message"] == "journey 7 created"
    assert fields["journey_id"] == 7 and fields["outcome"] == "created"
    assert fields["time"].endswith("+00:00") and "T" in fields["time"]
    assert not {"args", "msg", "levelno", "pathname", "exc_info"} & set(fields)


def test_json_formatter_writes_one_line_with_the_exception():
    """An exception is one escaped field, so each record stays one line."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("leadtrail", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "error" and "ValueError: boom" in parsed["exception"]


def _post(port: int, path: str, body: dict, cookie: str | None = None) -> tuple[int, dict, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", "User-Agent": CHROME_UA}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    set_cookie = resp.getheader("set-cookie")
    conn.close()
    return resp.status, (json.loads(data) if data else {}), set_cookie


def test_server_logs_json_lines_without_personal_data(start_server, sqlite_url):
    """With LOG_FORMAT=json every line the server writes to stderr after start-up is a JSON object,
    uvicorn's included; a promote is logged by journey id, never by e-mail or address."""
    server = start_server(sqlite_url, env={"LEADTRAIL_LOG_FORMAT": "json"})
    status, _, set_cookie = _post(
        server.port, "/api/track", {"event_name": "page_view", "page_path": "/", "event_id": "l1"}
    )
    assert status == 204
    cookie = set_cookie.split(";", 1)[0]
    status, body, _ = _post(server.port, "/api/track/promote", {"email": "Secret.Person@example.com"}, cookie)
    assert status == 201
    deadline = time.monotonic() + 5
    while '"journey_id"' not in server.logs() and time.monotonic() < deadline:
        time.sleep(0.1)
    server.stop()
    lines = [line for line in server.logs().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    saved = [r for r in records if r.get("journey_id") == body["journey_id"]]
    assert saved and saved[0]["outcome"] == "created" and saved[0]["server_events"] == 1
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's own lines are JSON too
    assert "secret.person" not in server.logs().lower()
    # uvicorn's access log (client addresses) stays off.
    assert not [r for r in records if r["logger"] == "uvicorn.access"]
