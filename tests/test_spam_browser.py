"""Spam scoring against bots and people in real Chromium, through a real `leadtrail serve`.

The site's pages are served by a small reverse proxy in front of the server, so the tracker and its
promote are same-origin as in a proxy deployment. Bots: a form sent right after the page
loaded, a filled honeypot, and a script with a browser's user agent promoting with no tracker at
all; each is filed as spam. People: a few pages over a few minutes (the browser clock moved on with
context.clock, started in the past so the browser never runs ahead of the server), sending the form
through the tracker or through the site's own server (the documented server-side promote, cookie
forwarded, or with the tracker blocked); none is spam.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest
from browser import CHROME_UA
from pgserver import free_port
from support import run_store, wait_until

pytestmark = pytest.mark.browser

THRESHOLD = 70
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def html(body: str, title: str, tracker: bool = True) -> str:
    script = '<script defer src="/api/track/script.js"></script>' if tracker else ""
    return f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>{script}</head><body>{body}</body></html>"


FORM = """<h1>Book a session</h1>
<form method=post action="{action}" id=booking {promote}>
  <label>E-mail <input type=email name=email id=email></label>
  <div style="position:absolute;left:-10000px" aria-hidden=true>
    <label>Leave this empty <input name=website id=website tabindex=-1 autocomplete=off data-leadtrail-honeypot></label>
  </div>
  <input type=hidden name=leadtrail_events id=events>
  <button id=send>Send</button>
</form>
<script>
  document.getElementById('booking').addEventListener('submit', (e) => {{
    e.target.elements.leadtrail_events.value = sessionStorage.getItem('leadtrail:events') || '[]';
  }});
</script>"""
PAGES = {
    "/t/": html('<h1>Home</h1><a id=next href="/t/services">Services</a>', "Home"),
    "/t/services": html('<h1>Services</h1><a id=next href="/t/prices">Prices</a>', "Services"),
    "/t/prices": html('<h1>Prices</h1><a id=next href="/t/book">Book</a>', "Prices"),
    "/t/book": html(FORM.format(action="/t/thanks", promote="data-leadtrail-promote"), "Book"),
    "/t/book-server": html(FORM.format(action="/t/enquire", promote=""), "Book"),
    "/t/book-plain": html(FORM.format(action="/t/enquire", promote=""), "Book", tracker=False),
    "/t/thanks": html("<p>Thank you!</p>", "Thanks"),
}


class Site:
    """The test site: a small reverse proxy in front of the server (same origin, as in a proxy
    deployment) serving the pages, and /t/enquire, the site's own form handler, which promotes
    server-side as docs/integration.md section 4 shows (the visitor's cookie, buffer, user agent and
    Sec-Fetch-* headers forwarded; `program_ua` to send its own user agent instead). A real server,
    not page.route: Chromium adds Sec-Fetch-* only to requests that reach the network."""

    def __init__(self, server, port: int):
        self.server = server
        self.url = f"http://127.0.0.1:{port}"
        self.program_ua: str | None = None
        self.promotes: list[httpx.Response] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.handle(self)

            def do_POST(self):
                site.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?")[0]
        body = req.rfile.read(int(req.headers.get("content-length") or 0))
        if path == "/t/enquire" and req.command == "POST":
            self.promote_for(req, body)
            path = "/t/thanks"
        if path in PAGES:
            self.answer(req, 200, "text/html; charset=utf-8", PAGES[path].encode())
            return
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("connection", "content-length")}
        r = httpx.request(req.command, self.server.url + req.path, content=body or None, headers=headers, timeout=30)
        self.answer(req, r.status_code, r.headers.get("content-type", ""), r.content, r.headers.get_list("set-cookie"))

    @staticmethod
    def answer(req, status: int, content_type: str, data: bytes, cookies: list[str] = ()) -> None:
        req.send_response(status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(data)))
        for cookie in cookies:
            req.send_header("Set-Cookie", cookie)
        req.end_headers()
        req.wfile.write(data)

    def promote_for(self, req: BaseHTTPRequestHandler, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        headers = {"User-Agent": self.program_ua or req.headers.get("user-agent", "")}
        for name in ("cookie", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-dest"):
            if req.headers.get(name):
                headers[name] = req.headers[name]
        events = json.loads(form.get("leadtrail_events") or "[]")
        doc = {"email": form.get("email", ""), "client_events": events, "form": "booking"}
        self.promotes.append(httpx.post(self.server.url + "/api/track/promote", json=doc, headers=headers, timeout=10))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site(start_server, sqlite_url):
    port = free_port()
    env = {"LEADTRAIL_RATE_LIMIT": "0", "LEADTRAIL_ALLOWED_ORIGINS": f"http://127.0.0.1:{port}"}
    proxy = Site(start_server(sqlite_url, env=env), port)
    yield proxy
    proxy.close()


def journey(server, email: str) -> dict:
    """The stored journey of `email`, once the promote has committed it."""
    found: list[dict] = []

    def look() -> bool:
        async def work(store):
            rows = await store.fetch("journeys_by_email", email=email, since=EPOCH)
            return [store.journey_out(row) for row in rows]

        found[:] = run_store(server.database_url, work)
        return bool(found)

    try:
        wait_until(look, 15, f"a journey of {email}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nserver log:\n{server.logs()[-2000:]}") from None
    [one] = found
    return one


def visitor(new_page, past: timedelta | None = None):
    """A Chromium page with the tracker's test override; its clock `past` behind when given."""
    page = new_page()
    page.add_init_script("window.leadtrailTest = true")
    if past is not None:
        page.context.clock.install(time=datetime.now(UTC) - past)
    return page


def read_a_few_pages(page, site, minutes_each: float = 1.5) -> None:
    """Home, services and prices, each read for a while, then the booking page."""
    page.goto(site.url + "/t/")
    for _ in range(3):
        page.wait_for_function("window.leadtrail")
        page.context.clock.fast_forward(int(minutes_each * 60_000))
        with page.expect_navigation():
            page.click("#next")


# -- bots ------------------------------------------------------------------------------------------


@pytest.mark.spam_expected
def test_a_bot_sending_the_form_as_soon_as_it_loads_is_spam(site, new_page):
    """The booking page opened, the address typed and the form sent at once: filed as spam, and
    the reason says the form went faster than anyone types."""
    page = visitor(new_page)
    page.goto(site.url + "/t/book")
    page.wait_for_function("window.leadtrail")
    page.fill("#email", "instant@example.com")
    with page.expect_navigation():
        page.click("#send")
    stored = journey(site.server, "instant@example.com")
    assert stored["status"] == "spam" and stored["spam_score"] >= THRESHOLD
    assert any("faster than anyone types" in r for r in stored["spam_reasons"])


@pytest.mark.spam_expected
def test_a_bot_filling_the_honeypot_is_spam_however_patient(site, new_page):
    """A bot that reads three pages over minutes like a person but fills every input, the hidden
    one too: the honeypot alone files it as spam."""
    page = visitor(new_page, past=timedelta(minutes=8))
    read_a_few_pages(page, site)
    page.context.clock.fast_forward("01:00")
    page.evaluate("document.querySelectorAll('#booking input:not([type=hidden])').forEach(i => i.value = 'x')")
    page.fill("#email", "patient.bot@example.com")
    with page.expect_navigation():
        page.click("#send")
    stored = journey(site.server, "patient.bot@example.com")
    assert stored["status"] == "spam" and stored["spam_score"] == 100
    assert any("honeypot" in r for r in stored["spam_reasons"])


@pytest.mark.spam_expected
def test_a_script_promoting_with_a_browser_name_and_no_tracker_is_spam(site):
    """httpx with Chrome's user agent and no cookie, events or browser headers: no page seen and
    not a browser, filed as spam (and, being spam, answered like any promote)."""
    r = httpx.post(
        site.server.url + "/api/track/promote", json={"email": "script@example.com"}, headers={"User-Agent": CHROME_UA}
    )
    assert r.status_code == 201
    stored = journey(site.server, "script@example.com")
    assert stored["status"] == "spam" and stored["spam_score"] >= THRESHOLD
    assert "sent by a program, not a web browser" in stored["spam_reasons"]


# -- people ----------------------------------------------------------------------------------------


def test_a_person_reading_a_few_pages_before_the_form_is_not_spam(site, new_page):
    """Three pages over four and a half minutes, a minute on the form, sent through the tracker:
    open, with nothing to say against it."""
    page = visitor(new_page, past=timedelta(minutes=8))
    read_a_few_pages(page, site)
    page.context.clock.fast_forward("01:00")
    page.fill("#email", "reader@example.com")
    with page.expect_navigation():
        page.click("#send")
    stored = journey(site.server, "reader@example.com")
    assert stored["status"] == "open" and stored["spam_score"] < THRESHOLD, stored["spam_reasons"]


def test_a_person_who_reads_only_the_form_page_for_a_while_is_not_spam(site, new_page):
    """Straight to the booking page from an ad or a bookmark, two minutes on it: open."""
    page = visitor(new_page, past=timedelta(minutes=5))
    page.goto(site.url + "/t/book")
    page.wait_for_function("window.leadtrail")
    page.context.clock.fast_forward("02:00")
    page.fill("#email", "direct@example.com")
    with page.expect_navigation():
        page.click("#send")
    stored = journey(site.server, "direct@example.com")
    assert stored["status"] == "open" and stored["spam_score"] < THRESHOLD, stored["spam_reasons"]


def test_the_sites_own_server_promoting_with_its_own_user_agent_is_not_spam(site, new_page):
    """The documented server-side promote: the form posts to the site, whose handler promotes with
    the visitor's cookie and buffer and its own user agent (node): a browser's journey, open."""
    page = visitor(new_page, past=timedelta(minutes=8))
    site.program_ua = "node"
    page.goto(site.url + "/t/")
    page.wait_for_function("window.leadtrail")
    page.context.clock.fast_forward("02:00")
    page.goto(site.url + "/t/book-server")
    page.wait_for_function("window.leadtrail")
    page.context.clock.fast_forward("01:30")
    page.fill("#email", "server.side@example.com")
    with page.expect_navigation():
        page.click("#send")
    [promoted] = site.promotes
    assert promoted.status_code == 201, promoted.text
    stored = journey(site.server, "server.side@example.com")
    assert stored["status"] == "open" and stored["spam_score"] < THRESHOLD, stored["spam_reasons"]


def test_a_person_without_the_tracker_sending_through_the_sites_server_is_not_spam(site, new_page):
    """A page without the tracker (or a visitor who blocks it), sent through the site's handler,
    which forwards the browser's Sec-Fetch-* headers: no page seen, but a browser, so open."""
    page = visitor(new_page)
    page.goto(site.url + "/t/book-plain")
    page.fill("#email", "no.tracker@example.com")
    with page.expect_navigation():
        page.click("#send")
    [promoted] = site.promotes
    assert promoted.status_code == 201, promoted.text + site.server.logs()[-2000:]
    stored = journey(site.server, "no.tracker@example.com")
    assert stored["status"] == "open" and stored["spam_score"] < THRESHOLD, stored["spam_reasons"]
    assert stored["spam_reasons"] == ["no page of the site was seen before the form"]
