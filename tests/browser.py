"""Launching Debian's Chromium through Playwright (sync API) the same way in every test.

Never a Playwright browser download: `executable_path` points at the distro binary.
"""

from __future__ import annotations

import re
from pathlib import Path

CHROMIUM_PATH = "/usr/bin/chromium"

# An ordinary desktop Chrome UA. Headless Chromium says "HeadlessChrome", which the
# server's bot filter drops, so tests that expect events to be stored must send this.
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

LAUNCH_ARGS = [
    "--no-sandbox",  # tests usually run as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No traffic of its own (updates, sync, safe browsing): only the page under test talks.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes renderers
    # Set at launch, not only per context: beacons sent while a page unloads go out after
    # the context's override is gone and would otherwise carry "HeadlessChrome".
    f"--user-agent={CHROME_UA}",
    # Hides navigator.webdriver; the tracker's automation check is overridden explicitly
    # by tests (window.leadtrailTest / data-allow-automation), not by this.
    "--disable-blink-features=AutomationControlled",
]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def launch(playwright):
    """A headless Chromium Browser from a started sync Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=LAUNCH_ARGS)


def new_context(browser, **kwargs):
    """A fresh context (own cookies/storage) with the Chrome UA; kwargs override defaults."""
    kwargs.setdefault("user_agent", CHROME_UA)
    kwargs.setdefault("viewport", {"width": 1280, "height": 800})
    kwargs.setdefault("locale", "en-GB")
    kwargs.setdefault("timezone_id", "UTC")
    return browser.new_context(**kwargs)


def screenshot_path(test_name: str) -> Path:
    """test-artifacts/screenshots/<test name>.png, with parametrize ids made file-safe."""
    return SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_") + ".png")
