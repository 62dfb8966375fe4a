"""GET /metrics: Prometheus counters for the local machine only."""

from __future__ import annotations

import urllib.error
import urllib.request

from browser import CHROME_UA


def _request(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_metrics_count_responses_and_commits_for_local_peers(start_server, sqlite_url):
    """After two accepted events and one bad request, /metrics reports them; a proxied request gets 404."""
    server = start_server(sqlite_url)
    headers = {"Content-Type": "application/json", "User-Agent": CHROME_UA}
    assert _request(server.url + "/api/track", b'{"event_name": "a"}', headers)[0] == 204
    assert _request(server.url + "/api/track", b'{"event_name": "b"}', headers)[0] == 204
    assert _request(server.url + "/api/track", b'{"event_name": "<x>"}', headers)[0] == 400
    status, text = _request(server.url + "/metrics")
    assert status == 200
    assert 'leadtrail_http_responses_total{route="track",status="204"} 2' in text
    assert 'leadtrail_http_responses_total{route="track",status="400"} 1' in text
    assert "leadtrail_commit_rows_total 2" in text
    assert "process_resident_memory_bytes" in text
    assert _request(server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.1"})[0] == 404
