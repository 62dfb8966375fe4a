"""The tracker in real Chromium against a real `leadtrail serve`, asserting what the server stored.

Pages are served by a small reverse proxy in front of the server (same origin, as in a
same-origin proxy deployment). The proxy can also refuse `/api/track`, the way an ad blocker
or a broken proxy would: Playwright's page.route cannot see beacons and keepalive requests sent
while a page unloads, a proxy sees everything.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser import screenshot_path
from pgserver import free_port
from support import run_store

from leadtrail.accounts.users import create_user

pytestmark = pytest.mark.browser

SRC = Path(__file__).resolve().parent.parent / "src"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


class TrackerSite:
    """A reverse proxy to the leadtrail server that also serves test pages.

    block = None: forward everything; "drop": close the connection of every POST /api/track
    without an answer (an ad blocker); an int: answer that status (a broken proxy, an outage).
    promote_delay: seconds each promote is held before it is forwarded (a slow network).
    first_track_delay: seconds the first POST /api/track is held after the server answered it
    (a slow network on the way back: the anon_id cookie arrives late).
    """

    def __init__(self, upstream_port: int, port: int):
        self.upstream_port = upstream_port
        self.pages: dict[str, str] = {}
        self.block: str | int | None = None
        self.seen: list[tuple[str, str, int | None, bytes]] = []  # method, path, status, body
        self.promote_delay = 0.0
        self.first_track_delay = 0.0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.handle(self)

            def do_POST(self):
                site.handle(self)

            def do_OPTIONS(self):
                site.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?")[0]
        body = req.rfile.read(int(req.headers.get("content-length") or 0))
        if path in self.pages:  # any method: a form may POST to a test page
            self.answer(req, 200, self.pages[path].encode(), "text/html; charset=utf-8")
            self.seen.append((req.command, req.path, 200, body))
            return
        if req.command == "POST" and path == "/api/track" and self.block is not None:
            if self.block == "drop":
                self.seen.append((req.command, req.path, None, body))
                req.close_connection = True
                return
            self.answer(
                req,
                int(self.block),
                b'{"error": "blocked by the test proxy"}',
                "application/json",
                {"Retry-After": "1"},
            )
            self.seen.append((req.command, req.path, int(self.block), body))
            return
        if path == "/api/track/promote" and self.promote_delay:
            time.sleep(self.promote_delay)
        hold = 0.0
        if req.command == "POST" and path == "/api/track" and self.first_track_delay:
            hold, self.first_track_delay = self.first_track_delay, 0.0
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(req.command, req.path, body=body or None, headers=headers)
            res = conn.getresponse()
            data = res.read()
        finally:  # closed even when the browser has left (a navigation) and the answer below fails
            conn.close()
        time.sleep(hold)
        status = res.status
        req.send_response(status)
        for k, v in res.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                req.send_header(k, v)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)
        self.seen.append((req.command, req.path, status, body))

    @staticmethod
    def answer(req, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        req.send_response(status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)

    def track_posts(self) -> list[tuple[int | None, list[dict]]]:
        """(status, events) of every POST /api/track the proxy saw."""
        out = []
        for method, path, status, body in list(self.seen):
            if method == "POST" and path == "/api/track":
                doc = json.loads(body)
                out.append((status, doc["events"] if "events" in doc else [doc]))
        return out

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def page_html(body: str = "", title: str = "Test page", head: str = "", script_attrs: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>{head}"
        f'<script defer src="/api/track/script.js"{script_attrs}></script></head>'
        f"<body>{body}</body></html>"
    )


@pytest.fixture
def site(start_server, sqlite_url, request):
    """The proxy in front of a fresh server; indirect parametrization adds server settings."""
    port = free_port()
    env = {"LEADTRAIL_RATE_LIMIT": "0", "LEADTRAIL_ALLOWED_ORIGINS": f"http://127.0.0.1:{port}"}
    server = start_server(sqlite_url, "--demo", env=env | getattr(request, "param", {}))
    proxy = TrackerSite(server.port, port)
    proxy.server = server
    proxy.db_path = sqlite_url[len("sqlite:///") :]
    yield proxy
    proxy.close()


@pytest.fixture
def visitor(page, page_errors):
    """The page, with the tracker's test override, failing the test on tracker debug logs."""
    page.add_init_script("window.leadtrailTest = true")
    page.on(
        "console",
        lambda msg: (
            page_errors.append(f"tracker log: {msg.text}")
            if msg.type == "debug" and msg.text.startswith("leadtrail:")
            else None
        ),
    )
    return page


def stored(site, timeout: float = 10.0, until=None) -> list[dict]:
    """Rows of session_events, oldest first, as {event_name, page_path, params, anon_id};
    waits until until(rows) is true when given."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(site.db_path) as db:
            rows = [
                {"event_name": n, "page_path": p, "params": json.loads(params), "anon_id": a}
                for n, p, params, a in db.execute(
                    "select event_name, page_path, params, anon_id from session_events order by id"
                )
            ]
        if until is None or until(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def names(rows, *only) -> list[tuple]:
    return [(r["event_name"], r["page_path"]) for r in rows if not only or r["event_name"] in only]


def export(site, email: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADTRAIL_")}
    env["PYTHONPATH"] = str(SRC)
    out = subprocess.run(
        [sys.executable, "-m", "leadtrail", "export", "--email", email, "--database-url", site.server.database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def wait_seen(site, path: str, timeout: float = 10.0) -> int | None:
    """The status of the first request to `path` the proxy has answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _, p, status, _ in list(site.seen):
            if p == path:
                return status
        time.sleep(0.05)
    raise AssertionError(f"no request to {path}")


def expect_failed_requests(page_errors: list, path: str) -> None:
    """Chromium logs each refused request as a console error: those to `path` were expected."""
    page_errors[:] = [e for e in page_errors if not ("Failed to load resource" in e and e.rstrip(")").endswith(path))]


def buffer(page) -> list[dict]:
    return page.evaluate("JSON.parse(sessionStorage.getItem('leadtrail:events') || '[]')")


def wait_acked(page, timeout: float = 10.0) -> list[dict]:
    """Waits until every event in the page's buffer is acknowledged by the server."""
    page.wait_for_function(
        "JSON.parse(sessionStorage.getItem('leadtrail:events') || '[]').every(e => e.s === 1)", timeout=timeout * 1000
    )
    return buffer(page)


def read_the_form(page, seconds: float = 2.5) -> None:
    """Waits until the page has been open `seconds` (a bounded condition on the page's own
    clock), as a person reads a form before sending it: a human-like flow must not look like a
    bot that submits within a second of the page opening (spam.py scores that)."""
    page.wait_for_function(f"performance.now() > {seconds * 1000}", timeout=(seconds + 10) * 1000)


SPA = """
<a id=next href="/t/b">next</a>
<button id=go onclick="history.pushState({}, '', '/t/b/pricing?utm_source=newsletter&secret=1'); document.title = 'Pricing'">pricing</button>
<button id=same onclick="history.replaceState({x: 1}, '', location.href)">same</button>
<button id=hash onclick="location.hash = 'faq'">hash</button>
<button id=redirect onclick="history.pushState({}, '', '/t/b/old'); history.replaceState({}, '', '/t/b/new'); document.title = 'New'">redirect</button>
"""


def test_page_views_across_real_and_spa_navigations(site, visitor):
    """Page views on load, on pushState/popstate to a new URL (with the title the router sets
    after the URL), none for the same URL or a hash; referrer on a load's first view only."""
    site.pages["/t/a"] = page_html('<a id=next href="/t/b">next</a>', title="Page A")
    site.pages["/t/b"] = page_html(SPA, title="Page B")
    visitor.goto(site.url + "/t/a")
    wait_acked(visitor)  # leaving before the first answer: the test after this one
    visitor.click("#next")
    visitor.wait_for_url("**/t/b")
    visitor.wait_for_timeout(300)
    visitor.click("#same")
    visitor.click("#hash")
    visitor.wait_for_timeout(300)
    visitor.click("#go")
    visitor.wait_for_timeout(300)
    visitor.go_back()  # popstate back to /t/b (through the #faq entry: same URL, nothing)
    visitor.wait_for_timeout(300)
    visitor.go_back()
    visitor.wait_for_timeout(300)
    visitor.click("#redirect")  # push then replace at once: one view, of the final URL
    visitor.wait_for_timeout(300)
    acked = wait_acked(visitor)

    views = [
        (e["page_path"], e["params"].get("title"), "referrer" in e["params"])
        for e in acked
        if e["event_name"] == "page_view"
    ]
    assert views == [
        ("/t/a", "Page A", False),
        ("/t/b", "Page B", True),
        ("/t/b/pricing?utm_source=newsletter&secret=1", "Pricing", False),
        ("/t/b", "Pricing", False),  # a popstate with nobody resetting the title
        ("/t/b/new", "New", False),
    ]
    referrers = [e["params"]["referrer"] for e in acked if "referrer" in e["params"]]
    assert referrers == [site.url + "/t/a"]

    rows = stored(site, until=lambda rows: len(rows) >= len(acked))
    assert names(rows, "page_view") == [
        ("page_view", "/t/a"),
        ("page_view", "/t/b"),
        ("page_view", "/t/b/pricing?utm_source=newsletter"),
        ("page_view", "/t/b"),
        ("page_view", "/t/b/new"),
    ]
    assert {r["params"]["event_id"] for r in rows} == {e["event_id"] for e in acked}
    assert len({r["anon_id"] for r in rows}) == 1

    # Engagement: one per page left, for the page it names, before the next view.
    kinds = [(e["event_name"], e["page_path"]) for e in acked if e["event_name"] in ("page_view", "page_engagement")]
    assert kinds[:4] == [
        ("page_view", "/t/a"),
        ("page_engagement", "/t/a"),
        ("page_view", "/t/b"),
        ("page_engagement", "/t/b"),
    ]
    assert all(e["params"]["engaged_ms"] > 0 for e in acked if e["event_name"] == "page_engagement")

    answer = visitor.evaluate("leadtrail.promote('Spa@Example.com', {form: 'api', consent: true})")
    assert answer["server_events"] == len(rows)
    journey = export(site, "spa@example.com")["journeys"][0]
    assert journey["form"] == "api" and journey["consent"] is True
    timeline = [
        (e["event_name"], e["page_path"], e["source"]) for e in journey["timeline"] if e["event_name"] == "page_view"
    ]
    assert timeline == [
        ("page_view", p, "both") for p in ["/t/a", "/t/b", "/t/b/pricing?utm_source=newsletter", "/t/b", "/t/b/new"]
    ]


GTAG_HEAD = """<script>
window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
gtag('js', new Date());
gtag('config', 'G-TEST');
gtag('set', {user_id: 'nope'});
gtag('event', 'early_event', {step: 1});
dataLayer.push({event: 'gtm.js', 'gtm.start': 1});
dataLayer.push({ecommerce: null});
</script>"""


def test_leaving_before_the_first_answer_stores_each_event_once_under_one_id(site, visitor):
    """The first request's answer (it brings the anon_id cookie) is held 1.2 s on its way back and
    the visitor clicks on at once: the next page waits for that answer instead of re-sending the
    same view without the cookie, so every event is stored once, all under one anon_id."""
    site.pages["/t/a"] = page_html('<a id=next href="/t/b">next</a>', title="A")
    site.pages["/t/b"] = page_html('<a id=next href="/t/c">next</a>', title="B")
    site.pages["/t/c"] = page_html("done", title="C")
    site.first_track_delay = 1.2
    visitor.goto(site.url + "/t/a")
    visitor.click("#next")  # while /t/a's view is on its way
    visitor.wait_for_url("**/t/b")
    wait_acked(visitor)
    visitor.click("#next")
    visitor.wait_for_url("**/t/c")
    acked = wait_acked(visitor)
    rows = stored(site, until=lambda rows: len(rows) >= len(acked))
    views = names(rows, "page_view")
    assert views == [("page_view", "/t/a"), ("page_view", "/t/b"), ("page_view", "/t/c")], views
    ids = [r["params"]["event_id"] for r in rows]
    assert len(ids) == len(set(ids)), "an event stored twice"
    assert len({r["anon_id"] for r in rows}) == 1, "events under two anon_ids"


def test_custom_events_and_google_tag_mirroring(site, visitor, page_errors):
    """leadtrail.track() and the site's gtag('event')/dataLayer.push({event}) calls, before and
    after the tracker loaded, are stored with flat scalar params; gtm.* and config calls are not."""
    site.pages["/t/g"] = page_html("<h1>gtag</h1>", head=GTAG_HEAD)
    visitor.goto(site.url + "/t/g")
    visitor.wait_for_function("window.leadtrail")
    visitor.evaluate("""() => {
        gtag('event', 'sign_up', {method: 'Google', send_to: 'G-TEST', value: 2.5, items: [{id: 1}],
                                   event_callback: () => {}});
        dataLayer.push({event: 'cta_click', label: 'hero', 'gtm.uniqueEventId': 7, nested: {a: 1}});
        dataLayer.push({event: 'gtm.click'});
        gtag('event', 'page_view', {page_title: 'manual'});   // the tracker has its own page views
        leadtrail.track('quote_request', {package: 'weddings', price: 950, ok: true, none: null,
                                          long: 'x'.repeat(1500), obj: {a: 1}, list: [1]});
        leadtrail.track('bad name!', {});
    }""")
    rows = stored(site, until=lambda rows: len(names(rows, "quote_request")) == 1)
    page_errors[:] = [e for e in page_errors if "bad name!" not in e]  # the one expected log
    custom = [
        (r["event_name"], {k: v for k, v in r["params"].items() if k not in ("event_id", "client_ts")})
        for r in rows
        if r["event_name"] not in ("page_view", "page_engagement")
    ]
    assert custom == [
        ("early_event", {"step": 1}),
        ("sign_up", {"method": "Google", "send_to": "G-TEST", "value": 2.5}),
        ("cta_click", {"label": "hero"}),
        ("quote_request", {"package": "weddings", "price": 950, "ok": True, "none": None, "long": "x" * 1000}),
    ]
    assert names(rows, "page_view") == [("page_view", "/t/g")]
    # The site's own dataLayer still works: every push is there, in order.
    assert visitor.evaluate("dataLayer.length") == 10


def test_params_the_server_would_refuse_are_trimmed_so_the_batch_lands(site, visitor, page_errors):
    """A custom event with too many params, a key that is empty or too long, or a long string of
    emoji (cut at 1,000 characters, never inside a surrogate pair) is trimmed by the tracker: the
    server would refuse the whole batch, and its other events with it."""
    site.pages["/t/p"] = page_html("<h1>params</h1>")
    visitor.goto(site.url + "/t/p")
    visitor.wait_for_function("window.leadtrail")
    visitor.evaluate("""() => {
        const many = {};
        for (let i = 0; i < 60; i++) many['k' + String(i).padStart(2, '0')] = i;
        leadtrail.track('many_params', many);
        leadtrail.track('odd_keys', {['x'.repeat(65)]: 1, '': 2, ['y'.repeat(64)]: 3});
        leadtrail.track('emoji', {text: 'a' + '\\u{1F600}'.repeat(1200)});
        leadtrail.track('after_them', {ok: true});
    }""")
    rows = stored(site, until=lambda rows: len(names(rows, "after_them")) == 1)
    by_name = {
        r["event_name"]: {k: v for k, v in r["params"].items() if k not in ("event_id", "client_ts")} for r in rows
    }
    assert by_name["many_params"] == {f"k{i:02d}": i for i in range(50)}
    assert by_name["odd_keys"] == {"y" * 64: 3}
    text = by_name["emoji"]["text"]
    assert len(text) == 1000 and text == "a" + "\U0001f600" * 999
    assert by_name["after_them"] == {"ok": True}


def test_outbound_clicks_and_file_downloads(site, visitor):
    """Clicks on links to other hosts and on files are stored with the link's origin + path."""
    site.pages["/t/links"] = page_html("""
        <a id=pdf href="/files/price-list.pdf?v=2#top">price list</a>
        <a id=dl href="/files/menu" download>menu</a>
        <a id=mail href="mailto:hello@example.com">mail</a>
        <a id=inside href="/t/links?x=1">inside</a>
        <a id=out href="https://elsewhere.example/partners/?ref=abc">partner</a>""")
    site.pages["/files/price-list.pdf"] = "%PDF-1.4 test"
    site.pages["/files/menu"] = "menu"
    visitor.context.route(
        "https://elsewhere.example/**",
        lambda route: route.fulfill(status=200, body="<title>elsewhere</title>", content_type="text/html"),
    )
    visitor.goto(site.url + "/t/links")
    with visitor.expect_download():
        visitor.click("#dl")
    visitor.click("#pdf", modifiers=["Control"])  # a new tab: the page stays
    visitor.click("#out", button="middle")
    visitor.click("#out")  # leaves the page: sent with keepalive while it unloads
    visitor.wait_for_url("https://elsewhere.example/**")
    rows = stored(site, until=lambda rows: len(names(rows, "outbound_click")) == 2 and names(rows, "page_engagement"))
    clicks = [
        (r["event_name"], r["params"]["href"]) for r in rows if r["event_name"] in ("outbound_click", "file_download")
    ]
    assert clicks == [
        ("file_download", site.url + "/files/menu"),
        ("file_download", site.url + "/files/price-list.pdf"),
        ("outbound_click", "https://elsewhere.example/partners/"),
        ("outbound_click", "https://elsewhere.example/partners/"),
    ]
    assert {path for _, path in names(rows, "page_engagement")} == {"/t/links"}


FORM = """
<form id=booking method=post action="/t/thanks-post" data-leadtrail-promote data-leadtrail-consent="ok">
  <input name=name value="Jo"><input type=email name=email value="  Jo@Example.COM ">
  <input type=checkbox name=ok checked><button id=send>send</button>
</form>"""


def test_blocked_track_events_reach_the_journey_as_client_events(site, visitor, page_errors):
    """/api/track refused by a proxy for part of the visit: those events still reach the journey
    through promote, marked client; the ones that got through are marked both; the form's own
    submission reaches its thank-you page."""
    site.pages["/t/a"] = page_html('<a id=next href="/t/b">next</a>', title="A")
    site.pages["/t/b"] = page_html('<a id=next href="/t/form">form</a>', title="B")
    site.pages["/t/form"] = page_html(FORM, title="Form")
    site.pages["/t/thanks-post"] = "unused"
    visitor.goto(site.url + "/t/a")
    wait_acked(visitor)
    site.block = "drop"
    visitor.click("#next")
    visitor.wait_for_url("**/t/b")
    visitor.evaluate("leadtrail.track('viewed_prices', {tier: 'gold'})")
    visitor.click("#next")
    visitor.wait_for_url("**/t/form")
    read_the_form(visitor)
    visitor.click("#send")
    visitor.wait_for_url("**/t/thanks-post")
    # The promote request outlives the page it came from (keepalive): the browser reports it
    # aborted, the proxy sees the server's answer.
    assert wait_seen(site, "/api/track/promote") == 201
    assert ("POST", "/t/thanks-post") in [(m, p) for m, p, _, _ in site.seen]

    journey = export(site, "jo@example.com")["journeys"][0]
    assert journey["consent"] is True and journey["form"] == "booking"
    seen = [
        (e["event_name"], e["page_path"], e["source"])
        for e in journey["timeline"]
        if e["event_name"] != "page_engagement"
    ]
    assert seen == [
        ("page_view", "/t/a", "both"),
        ("page_view", "/t/b", "client"),
        ("viewed_prices", "/t/b", "client"),
        ("page_view", "/t/form", "client"),
    ]
    assert any(
        e["source"] == "client" and e["event_name"] == "page_engagement" and e["page_path"] == "/t/b"
        for e in journey["timeline"]
    )
    assert [s for s, _ in site.track_posts()][1:] and all(s is None for s, _ in site.track_posts()[1:])
    expect_failed_requests(page_errors, "/api/track")


def test_events_sent_during_an_outage_are_resent_once(site, visitor, page_errors):
    """During a 503 outage events wait in the buffer; afterwards they are resent with the same
    event_id and stored exactly once, including those beaconed while a page unloaded."""
    site.pages["/t/a"] = page_html('<a id=next href="/t/b">next</a>', title="A")
    site.pages["/t/b"] = page_html('<a id=next href="/t/c">next</a>', title="B")
    site.pages["/t/c"] = page_html("done", title="C")
    site.block = 503
    visitor.goto(site.url + "/t/a")
    visitor.evaluate("leadtrail.track('during_outage', {n: 1})")
    visitor.wait_for_timeout(300)
    visitor.click("#next")  # beacons /t/a's engagement into the outage
    visitor.wait_for_url("**/t/b")
    visitor.wait_for_timeout(300)
    assert stored(site) == []
    assert all(not e.get("s") for e in buffer(visitor))
    site.block = None
    visitor.click("#next")  # the beacon and /t/c's first send carry everything not acknowledged
    visitor.wait_for_url("**/t/c")
    acked = wait_acked(visitor)
    rows = stored(site, until=lambda rows: len(rows) >= len(acked))
    ids = [r["params"]["event_id"] for r in rows]
    assert sorted(ids) == sorted(e["event_id"] for e in acked)  # each stored once
    assert names(rows, "page_view", "during_outage") == [
        ("page_view", "/t/a"),
        ("during_outage", "/t/a"),
        ("page_view", "/t/b"),
        ("page_view", "/t/c"),
    ]
    # Some events really were sent more than once.
    sent = [e["event_id"] for _, events in site.track_posts() for e in events]
    assert len(sent) > len(set(sent))
    statuses = {s for s, _ in site.track_posts()}
    assert 503 in statuses and 204 in statuses
    expect_failed_requests(page_errors, "/api/track")


FRAMEWORK_FORM = """
<form id=f data-leadtrail-promote data-leadtrail-form=contact>
  <input type=email name=email value="fw@example.com"><button id=send>send</button>
</form>
<script>
document.getElementById('f').addEventListener('submit', async (e) => {
  e.preventDefault();   // a framework handles the submission itself
  await fetch('/t/echo', {method: 'POST', body: new FormData(e.target)});
  location.href = '/t/done';
});
</script>"""

SCRIPTED_FORM = """
<form method=post action="/t/done" name=newsletter data-leadtrail-promote>
  <input type=email name=email value="scripted@example.com">
</form>
<button id=send onclick="document.forms.newsletter.submit()">send</button>"""


@pytest.mark.parametrize(
    "markup, email, form_name",
    [
        (FRAMEWORK_FORM, "fw@example.com", "contact"),
        (SCRIPTED_FORM, "scripted@example.com", "newsletter"),
    ],
)
def test_promote_from_forms_submitted_by_frameworks_and_scripts(site, visitor, markup, email, form_name):
    """A form that a framework cancels and submits with fetch, and one submitted by form.submit()
    (no submit event), both promote once, and both still reach their next page."""
    site.pages["/t/form"] = page_html(markup)
    site.pages["/t/done"] = page_html("done", title="Done")
    site.pages["/t/echo"] = "ok"
    visitor.goto(site.url + "/t/form")
    wait_acked(visitor)
    read_the_form(visitor)
    visitor.click("#send")
    visitor.wait_for_url("**/t/done")
    journeys = export(site, email)["journeys"]
    assert len(journeys) == 1
    assert journeys[0]["form"] == form_name
    assert [e["page_path"] for e in journeys[0]["timeline"] if e["event_name"] == "page_view"] == ["/t/form"]
    promotes = [json.loads(b) for m, p, _, b in site.seen if p == "/api/track/promote"]
    assert len(promotes) == 1 and promotes[0]["email"] == email
    assert {"event_name", "page_path", "params", "event_id", "ts"} <= set(promotes[0]["client_events"][0])


def test_global_privacy_control_sends_and_keeps_nothing(site, visitor):
    """With navigator.globalPrivacyControl the tracker sends nothing and keeps nothing, and
    promote resolves to null without a request."""
    visitor.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
    visitor.add_init_script("sessionStorage.setItem('leadtrail:events', '[{\"event_name\":\"old\"}]')")
    site.pages["/t/gpc"] = page_html(FORM)
    site.pages["/t/thanks-post"] = "thanks"
    visitor.goto(site.url + "/t/gpc")
    visitor.wait_for_function("window.leadtrail")
    assert visitor.evaluate("leadtrail.track('x'), leadtrail.pageview(), leadtrail.promote('a@example.com')") is None
    assert visitor.evaluate("sessionStorage.getItem('leadtrail:events')") is None
    visitor.click("#send")
    visitor.wait_for_url("**/t/thanks-post")
    assert [p for _, p, _, _ in site.seen if p.startswith("/api/track") and "script.js" not in p] == []


@pytest.mark.parametrize("script_attrs, sends", [("", False), (" data-allow-automation", True)])
def test_automated_browsers_send_nothing_without_the_override(site, page, script_attrs, sends):
    """navigator.webdriver without window.leadtrailTest: nothing, unless the script tag has
    data-allow-automation."""
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => true})")
    site.pages["/t/bot"] = page_html("bot", script_attrs=script_attrs)
    page.goto(site.url + "/t/bot")
    page.wait_for_function("window.leadtrail")
    page.wait_for_timeout(500)
    assert bool(site.track_posts()) is sends
    assert bool(stored(site, timeout=2, until=lambda rows: rows)) is sends


def test_data_api_sends_cross_origin_and_data_auto_false(site, visitor):
    """data-api sends straight to another origin (an allowed one, with cookies), and with
    data-auto="false" only the site's own leadtrail.pageview() calls are page views."""
    site.pages["/t/api"] = page_html(
        "<button id=go onclick=\"history.pushState({}, '', '/t/api/next')\">go</button>",
        script_attrs=f' data-api="{site.server.url}/" data-auto="false"',
    )
    visitor.goto(site.url + "/t/api")
    visitor.wait_for_function("window.leadtrail")
    visitor.click("#go")
    visitor.wait_for_timeout(300)
    visitor.evaluate("leadtrail.pageview({section: 'next'})")
    visitor.evaluate("leadtrail.track('cross', {})")
    rows = stored(site, until=lambda rows: len(rows) == 2)
    assert [(r["event_name"], r["page_path"]) for r in rows] == [("page_view", "/t/api/next"), ("cross", "/t/api/next")]
    assert rows[0]["params"]["section"] == "next"
    assert site.track_posts() == []  # nothing went through the page's own origin
    read_the_form(visitor)
    answer = visitor.evaluate("leadtrail.promote('cross@example.com')")
    assert answer["server_events"] == 2  # the cookie the server set came along


def test_buffer_shape_cap_and_dedupe_of_double_inclusion(site, visitor):
    """Each buffered event has the wire shape and a unique id; the buffer keeps the newest 250;
    including the script twice changes nothing; params are flat."""
    site.pages["/t/u"] = page_html('<script defer src="/api/track/script.js"></script>')
    visitor.goto(site.url + "/t/u")
    visitor.wait_for_function("window.leadtrail")
    visitor.evaluate("for (let i = 0; i < 300; i++) leadtrail.track('n' + i, {i})")
    acked = wait_acked(visitor, timeout=20)
    assert len(acked) == 250
    assert acked[-1]["event_name"] == "n299" and acked[0]["event_name"] == "n50"
    for e in acked:
        assert set(e) == {"event_name", "page_path", "params", "event_id", "ts", "s"}
        assert isinstance(e["ts"], int) and 0 < len(e["event_id"]) <= 64
    assert len({e["event_id"] for e in acked}) == 250
    # Events that left the buffer before they could be sent are lost (here some of n0..n49,
    # depending on what was in flight): the newest 250 always arrive, each once.
    rows = stored(site, until=lambda rows: {f"n{i}" for i in range(50, 300)} <= {r["event_name"] for r in rows})
    stored_names = [r["event_name"] for r in rows]
    assert {f"n{i}" for i in range(50, 300)} <= set(stored_names)
    assert len(stored_names) == len(set(stored_names)) and stored_names[0] == "page_view"
    assert max(len(events) for _, events in site.track_posts()) == 50


def test_never_breaks_the_host_page(site, visitor, page_errors):
    """Storage that throws, a native error from pushState, and a rejected promote reach the page
    as they would without the tracker; the tracker keeps sending."""
    visitor.add_init_script(
        "Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError') }"
    )
    site.pages["/t/x"] = page_html("x")
    visitor.goto(site.url + "/t/x")
    visitor.wait_for_function("window.leadtrail")
    err = visitor.evaluate("""() => { try { history.pushState({}, '', 'https://other.example/'); return 'none' }
                                     catch (e) { return e.name } }""")
    assert err == "SecurityError"
    rejected = visitor.evaluate("leadtrail.promote('not an address').then(() => 'ok', e => [e.status, e.message])")
    assert rejected[0] == 400 and rejected[1]
    rows = stored(site, until=lambda rows: rows)
    assert names(rows) == [("page_view", "/t/x")]
    visitor.close()  # leaving logs storage errors too
    expect_failed_requests(page_errors, "/api/track/promote")
    assert page_errors and all(e.startswith("tracker log: leadtrail: QuotaExceededError") for e in page_errors)
    page_errors.clear()


# -- remembered visits (touches), the honeypot and the receipt -------------------------------------

BOOKING = """<form method=post action="/t/thanks" data-leadtrail-promote id=booking>
  <input type=email name=email value="{email}">
  <input name=website data-leadtrail-honeypot value="{trap}" style="display:none">
  <button id=send>Book</button>
</form>"""
THANKS = "<p>Thank you!</p><a id=receipt data-leadtrail-receipt hidden>What was sent with your enquiry</a>"
OWNER, OWNER_PASSWORD = "owner@studio.example", "correct horse battery staple"
DAY = timedelta(days=1)


def touches(page) -> list:
    return page.evaluate("JSON.parse(localStorage.getItem('leadtrail:touches') || '[]')")


def bodies(site, path: str) -> list[bytes]:
    return [body for method, p, _, body in list(site.seen) if method == "POST" and p == path]


def wait_promote(site, count: int = 1) -> list[dict]:
    """The bodies of the first `count` promotes the proxy forwarded (waits for them)."""
    deadline = time.monotonic() + 10
    while len(bodies(site, "/api/track/promote")) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads(b) for b in bodies(site, "/api/track/promote")]


def leave_untracked(site, visitor) -> None:
    """Ends a visit: the tab moves to a page of the site without the tracker, the tab's buffer
    and cookie are dropped (a new tab another day); localStorage stays, as a browser keeps it."""
    site.pages["/t/plain"] = "<!doctype html><title>plain</title>plain"
    visitor.goto(site.url + "/t/plain")
    visitor.evaluate("sessionStorage.clear()")
    visitor.context.clear_cookies()


def test_a_newsletter_visit_ten_days_ago_is_the_first_touch(site, visitor, new_page, page_errors):
    """Ten days ago (browser clock) the couple came from the newsletter while the server saw
    nothing; today they come back directly and book: the journey's first touch is that visit,
    time to enquiry counts from it, and the dashboard's picture shows both visits, ten days apart."""
    visitor.context.clock.install(time=datetime.now(UTC) - 10 * DAY)
    site.pages["/t/home"] = page_html("home", title="Home")
    site.pages["/t/form"] = page_html(BOOKING.format(email="couple@example.com", trap=""), title="Book")
    site.pages["/t/thanks"] = page_html(THANKS, title="Thanks")
    site.block = "drop"  # the server's buffer never holds the old visit (or pruned it long ago)
    visitor.goto(site.url + "/t/home?utm_source=newsletter&utm_medium=email&utm_campaign=spring&secret=x")
    visitor.wait_for_function("JSON.parse(localStorage.getItem('leadtrail:touches') || '[]').length == 1")
    wait_seen(site, "/api/track")
    leave_untracked(site, visitor)
    site.block = None
    visitor.context.clock.set_system_time(datetime.now(UTC))
    visitor.goto(site.url + "/t/form")
    wait_acked(visitor)
    remembered = touches(visitor)
    assert [t["page_path"] for t in remembered] == [
        "/t/home?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        "/t/form",
    ]
    visitor.click("#send")
    visitor.wait_for_url("**/t/thanks")
    [promote] = wait_promote(site)
    assert [t["page_path"] for t in promote["touches"]] == [t["page_path"] for t in remembered]
    assert "honeypot" not in promote  # an empty trap says nothing
    assert all(b"leadtrail:touches" not in b and b'"touches"' not in b for b in bodies(site, "/api/track"))

    [journey] = export(site, "couple@example.com")["journeys"]
    first, second = journey["visits"]
    assert first["remembered"] and (first["channel"], first["source"]) == ("Email", "newsletter")
    assert first["landing_page"] == "/t/home" and first["utm"]["campaign"] == "spring"
    assert not second.get("remembered") and second["landing_page"] == "/t/form"
    summary = journey["summary"]
    assert (summary["first_touch"]["channel"], summary["first_touch"]["source"]) == ("Email", "newsletter")
    assert summary["visits"] == 2 and summary["first_seen_at"] == first["started_at"]
    assert 10 * 86_400_000 - 120_000 <= summary["time_to_enquiry_ms"] <= 10 * 86_400_000 + 120_000
    assert "secret" not in json.dumps(journey)
    expect_failed_requests(page_errors, "/api/track")  # the dropped sends of the old visit

    run_store(site.server.database_url, lambda store: create_user(store, OWNER, OWNER_PASSWORD))
    owner = new_page()
    owner.goto(site.server.url + "/cp/login")
    owner.get_by_label("E-mail address").fill(OWNER)
    owner.get_by_label("Password").fill(OWNER_PASSWORD)
    with owner.expect_navigation():
        owner.get_by_label("Password").press("Enter")
    owner.goto(f"{site.server.url}/cp/journeys/{journey['id']}")
    picture = owner.locator("#journey-picture")
    assert picture.locator(".visit").count() == 2
    text = picture.text_content()
    assert "Email · newsletter" in text and "remembered by the visitor" in text and "10 days later" in text
    assert owner.locator("#journey-strip .strip-break").count() == 1
    shoot(owner, "tracker_remembered_visit_journey")


def shoot(page, name: str) -> None:
    path = screenshot_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_the_memory_keeps_the_first_and_the_latest_visits_for_touch_memory_days(site, visitor):
    """Of twelve visits the first and the latest nine are kept; pages within 30 minutes belong
    to one visit; only campaign tags and click ids of the landing query are kept, the referrer
    only as an origin; 91 days later (TOUCH_MEMORY_DAYS=90) all of them are forgotten."""
    clock = visitor.context.clock
    start = datetime.now(UTC) - 100 * DAY
    clock.install(time=start)
    site.pages["/t/p"] = page_html("p")
    site.pages["/t/q"] = page_html("q")
    for n in range(12):
        clock.set_system_time(start + n * timedelta(hours=1))
        visitor.goto(site.url + f"/t/p?n={n}&utm_source=s{n}&gclid=g{n}&msclkid=m{n}&email=a%40b.example")
    clock.set_system_time(start + timedelta(hours=11, minutes=20))
    visitor.goto(site.url + "/t/q")  # 20 minutes later: the same visit
    remembered = touches(visitor)
    kept = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert [t["page_path"] for t in remembered] == [f"/t/p?utm_source=s{n}&gclid=g{n}&msclkid=m{n}" for n in kept]
    assert [t["pages"] for t in remembered] == [1] * 9 + [2]
    assert all(t["referrer"] is None for t in remembered)  # the site's own pages are no referrer

    clock.set_system_time(start + 91 * DAY + timedelta(hours=12))
    visitor.goto("about:blank")
    visitor.goto(site.url + "/t/p?fbclid=f", referer="https://news.example.org/story/42?uid=7")
    [latest] = touches(visitor)
    assert latest["referrer"] == "https://news.example.org" and latest["page_path"] == "/t/p?fbclid=f"


@pytest.mark.parametrize("site", [{"LEADTRAIL_TOUCH_MEMORY_DAYS": "0"}], indirect=True)
def test_nothing_is_remembered_with_touch_memory_days_0(site, visitor):
    """With TOUCH_MEMORY_DAYS=0 the tracker keeps no touch (and drops what an earlier setting
    kept), and the promote carries none."""
    visitor.add_init_script(
        "localStorage.setItem('leadtrail:touches', JSON.stringify([{ts: Date.now() - 1000, last: Date.now() - 1000, page_path: '/old', pages: 1}]))"
    )
    site.pages["/t/form"] = page_html(BOOKING.format(email="off@example.com", trap=""), title="Book")
    site.pages["/t/thanks"] = page_html(THANKS, title="Thanks")
    visitor.goto(site.url + "/t/form?utm_source=newsletter")
    wait_acked(visitor)
    assert visitor.evaluate("localStorage.getItem('leadtrail:touches')") is None
    read_the_form(visitor)
    visitor.click("#send")
    visitor.wait_for_url("**/t/thanks")
    [promote] = wait_promote(site)
    assert promote["touches"] == []


def test_nothing_is_remembered_under_global_privacy_control(site, visitor):
    """With GPC the tracker keeps no touches (and removes any it had)."""
    visitor.add_init_script("localStorage.setItem('leadtrail:touches', '[{\"ts\": 1}]')")
    visitor.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
    site.pages["/t/gpc"] = page_html("gpc")
    visitor.goto(site.url + "/t/gpc?utm_source=newsletter")
    visitor.wait_for_function("window.leadtrail")
    assert visitor.evaluate("localStorage.getItem('leadtrail:touches')") is None
    assert not bodies(site, "/api/track")


@pytest.mark.spam_expected
def test_a_filled_honeypot_is_reported_and_filed_as_spam(site, visitor):
    """A bot that fills the hidden field: the promote says honeypot, the journey is spam."""
    site.pages["/t/form"] = page_html(BOOKING.format(email="bot@example.com", trap="http://spam.example"), title="Book")
    site.pages["/t/thanks"] = page_html("thanks", title="Thanks")
    visitor.goto(site.url + "/t/form")
    wait_acked(visitor)
    visitor.click("#send")
    visitor.wait_for_url("**/t/thanks")
    [body] = wait_promote(site)
    assert body["honeypot"] is True
    [journey] = export(site, "bot@example.com")["journeys"]
    assert journey["status"] == "spam" and any("honeypot" in r for r in journey["spam_reasons"])


def test_the_receipt_link_when_the_promote_answers_on_the_page(site, visitor):
    """A form sent by script (the page stays): the receipt element becomes a visible link to
    the promote's receipt_url, and a later page of the tab shows it again."""
    site.pages["/t/ajax"] = page_html(THANKS, title="Ajax")
    visitor.goto(site.url + "/t/ajax")
    wait_acked(visitor)
    assert visitor.is_hidden("#receipt")
    read_the_form(visitor)
    answer = visitor.evaluate("leadtrail.promote('ajax@example.com', {form: 'contact'})")
    assert answer["receipt_url"].startswith("/api/track/")
    assert visitor.get_attribute("#receipt", "href") == site.url + answer["receipt_url"]
    assert visitor.is_visible("#receipt")
    site.pages["/t/later"] = page_html(THANKS, title="Later")
    visitor.goto(site.url + "/t/later")
    assert visitor.get_attribute("#receipt", "href") == site.url + answer["receipt_url"]


def test_the_receipt_link_after_the_form_left_before_the_answer(site, visitor):
    """The common case: the form's own submission leaves the page while the promote is still on
    its way (held 1.5 s here); the thank-you page asks for the receipt until it exists, then links it."""
    site.pages["/t/form"] = page_html(BOOKING.format(email="slow@example.com", trap=""), title="Book")
    site.pages["/t/thanks"] = page_html(THANKS, title="Thanks")
    site.promote_delay = 1.5
    visitor.goto(site.url + "/t/form")
    wait_acked(visitor)
    visitor.click("#send")
    visitor.wait_for_url("**/t/thanks")
    assert visitor.is_hidden("#receipt")  # the promote has not been answered yet
    visitor.wait_for_selector("#receipt[href]", state="visible", timeout=15_000)
    href = visitor.get_attribute("#receipt", "href")
    looks = bodies(site, "/api/track/receipt")
    assert len(looks) >= 2 and all(b == b"" for b in looks)  # asked again while it was missing; nothing sent
    assert href.startswith(site.url + "/api/track/receipt/")
    res = visitor.goto(href)  # the server's receipt of this enquiry
    assert res.status == 200 and "/t/form" in visitor.content()


def test_no_receipt_look_up_without_a_promote(site, visitor):
    """A page with the receipt element in a tab that sent no promote stays as it is, and asks nothing."""
    site.pages["/t/thanks"] = page_html(THANKS, title="Thanks")
    visitor.goto(site.url + "/t/thanks")
    wait_acked(visitor)
    assert visitor.is_hidden("#receipt") and not bodies(site, "/api/track/receipt")
