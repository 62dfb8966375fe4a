"""Demo mode: the first owner can be created from the login page, but only from the machine itself."""

from __future__ import annotations

import re
import urllib.request


def _get(url: str, headers: dict | None = None) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.read().decode()


def test_demo_login_page_offers_the_setup_link_to_a_local_visitor(start_server, sqlite_url):
    """With --demo and no owner, a browser on the same machine gets a working setup link; a proxied one does not."""
    server = start_server(sqlite_url, "--demo")
    page = _get(server.url + "/cp/login")
    link = re.search(r'href="(/cp/setup\?token=[^"]+)"', page)
    assert link and "Create the owner account" in page
    setup_page = _get(server.url + link.group(1).replace("&amp;", "&"))
    assert 'name="password"' in setup_page and "does not work" not in setup_page
    proxied = _get(server.url + "/cp/login", {"X-Forwarded-For": "203.0.113.9"})
    assert "/cp/setup?token=" not in proxied


def test_without_demo_the_login_page_never_shows_the_link(start_server, sqlite_url):
    """Outside demo mode the setup link is only printed at start-up, never served."""
    server = start_server(sqlite_url)
    assert "/cp/setup?token=" not in _get(server.url + "/cp/login")
