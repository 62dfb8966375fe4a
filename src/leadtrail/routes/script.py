"""GET /api/track/script.js: the browser tracker, compressed once, cacheable, with ETag and 304.

The readable source is static/tracker.js. static/tracker.min.js is its terser output, made by
scripts/build-tracker.sh, which also records the source's SHA-256 beside it; the minified copy is
served only while that hash matches the source, so an edited tracker.js is served as it is (larger,
never stale) until the script is run again.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..templating import STATIC_DIR

log = logging.getLogger("leadtrail")

SOURCE = STATIC_DIR / "tracker.js"
MINIFIED = STATIC_DIR / "tracker.min.js"
MINIFIED_HASH = STATIC_DIR / "tracker.min.js.sha256"
MAX_AGE = 3600


@dataclass(frozen=True)
class Script:
    body: bytes
    gzipped: bytes
    etag: str
    minified: bool


def minified_is_current() -> bool:
    """True when tracker.min.js was built from the tracker.js that is here now."""
    if not (MINIFIED.exists() and MINIFIED_HASH.exists()):
        return False
    recorded = MINIFIED_HASH.read_text().split()
    return bool(recorded) and recorded[0] == hashlib.sha256(SOURCE.read_bytes()).hexdigest()


DAYS_MARK = b"@@TOUCH_DAYS@@"


@functools.cache
def load_script(touch_days: int = 90) -> Script:
    """The tracker with this server's TOUCH_MEMORY_DAYS written in (the ETag follows it)."""
    minified = minified_is_current()
    if not minified:
        log.warning(
            "tracker.min.js is missing or older than tracker.js: serving the readable source "
            "(run scripts/build-tracker.sh)"
        )
    body = (MINIFIED if minified else SOURCE).read_bytes().replace(DAYS_MARK, str(int(touch_days)).encode())
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Script(body=body, gzipped=gzip.compress(body, 9, mtime=0), etag=etag, minified=minified)


def accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            return not params or quality.replace(".", "", 1).strip("0") != ""
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def tracker_script(request: Request, touch_days: int = 90) -> Response:
    script = load_script(touch_days)
    headers = {
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "ETag": script.etag,
        "Vary": "Accept-Encoding",
        # A site that isolates itself (COEP) may still load the tracker from a stats subdomain.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag_matches(request.headers.get("if-none-match", ""), script.etag):
        return Response(status_code=304, headers=headers)
    body = script.body
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        body = script.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, headers=headers, media_type="application/javascript; charset=utf-8")


def routes(settings) -> list[BaseRoute]:
    days = settings.touch_memory_days
    load_script(days)  # compress once, at start-up, and log a stale minified copy there

    async def endpoint(request: Request) -> Response:
        return await tracker_script(request, days)

    return [Route("/api/track/script.js", endpoint, methods=["GET"])]
