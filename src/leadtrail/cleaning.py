"""Pure cleaning of what browsers send: page paths, referrers, hrefs and free text.

The rules come from docs/security.md: a query-parameter allowlist, e-mail and token redaction,
referrers reduced to their origin. Every function here is total on its input type, idempotent
(cleaning a cleaned value changes nothing) and cheap on the common case, because it runs on
every /api/track event.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

MAX_PATH = 2048
MAX_QUERY_VALUE = 200
MAX_TEXT = 1000
MAX_KEY = 64
# A site's beacons repeat the same few paths and titles, so the costly paths of the cleaning below
# are remembered for strings up to MEMO_LENGTH characters (the functions are pure). Longer strings
# are cleaned each time: MEMO_SIZE x 2 x MEMO_LENGTH bounds the memory (~1-2 MB per function).
MEMO_LENGTH = 256
MEMO_SIZE = 2048
EMAIL_MARK = "[email]"
TOKEN_MARK = "[token]"
PHONE_MARK = "[phone]"

# What attribution needs from a landing page's query: campaign tags and ad click ids. Anything
# else (search terms, session ids, reset tokens, e-mail links) is dropped, as Plausible does.
ALLOWED_QUERY_PARAMS = frozenset(
    (
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "gclid",
        "gbraid",
        "wbraid",
        "dclid",
        "fbclid",
        "msclkid",
        "ttclid",
        "twclid",
        "li_fat_id",
        "ref",
        "source",
    )
)

# --- e-mail addresses -------------------------------------------------------------------------
# A naive `local@domain` regex backtracks quadratically on long runs of local-part characters, and
# it would have to run over every string. Instead we find each "@" (also "%40", double-encoded
# "%2540" and the full-width "＠"), match the domain forwards with possessive quantifiers, and
# match the local part backwards on the reversed string, never past the previous separator. That is
# linear in the input, even for hostile input.
_SEP = re.compile(r"@|\uff20|%(?:25)*40")
# Domain labels may hold percent-encoded bytes too ("%63" for "c"), but an encoded dot separates
# labels and an encoded "@" ends the domain (so each domain scan stops at the next separator and
# the whole redaction stays linear).
_LABEL = r"(?:[\w-]|%(?!(?:25)*(?:2[eE]|40))[0-9A-Fa-f]{2})++"
_DOMAIN = re.compile(_LABEL + r"(?:(?:\.|%(?:25)*2[eE])" + _LABEL + ")+")
# RFC 5322 atext (plus "%" for percent-encoded bytes) minus "/", so that "/contact/jo@x.io" loses
# only "jo@x.io" and keeps its path.
_LOCAL_REV = re.compile(r"[\w.!#$%&'*+=?^`{|}~-]++")


def redact_text(s: str) -> str:
    """The one redaction of every stored string: e-mail addresses (plain or percent-encoded),
    secret-looking tokens (JWTs, long random ids) and phone numbers become markers."""
    done = _redacted.get(s)  # params keys and titles repeat: one lookup instead of the scans
    if done is not None:
        return done
    if len(s) < 32 and "@" not in s and "%" not in s and "eyJ" not in s and "\uff20" not in s:
        # Short plain text, nearly every key, title and value: no address, no token; a phone
        # number needs seven digits.
        done = s if len(s) < 7 or not _has_phone_digits(s) else _PHONE.sub(_phone_sub, s)
    else:
        done = _redact(s)
    if len(s) <= MEMO_LENGTH:
        if len(_redacted) >= MEMO_SIZE:
            _redacted.clear()
        _redacted[s] = done
    return done


# redact_text's answers for strings of up to MEMO_LENGTH characters (it is pure); forgotten all at
# once when MEMO_SIZE are held.
_redacted: dict[str, str] = {}


def _redact(s: str) -> str:
    s = _redact_emails(s)
    if (len(s) >= 32 or "eyJ" in s) and _TOKENISH.search(s) is not None:  # shorter text holds no token
        s = _TOKENISH.sub(_token_sub, s)
    if _has_phone_digits(s):
        s = _PHONE.sub(_phone_sub, s)
    return s


def _has_phone_digits(s: str) -> bool:
    """A run of at least seven digits and separators: nearly no title or path has one, and the
    search fails fast where there are few digits (a digit count by str.translate cost 1-3 µs)."""
    return _PHONE_HINT.search(s) is not None


def redact_id(s: str) -> str:
    """An identifier the client chose (an event_id): e-mail addresses only. Random ids are long runs
    of digits and dashes that the token and phone rules would all turn into the same marker, and
    ids must stay distinct (they deduplicate events)."""
    return _redact_emails(s)


def _redact_emails(s: str) -> str:
    if "@" not in s and "%" not in s and "\uff20" not in s:  # nearly every title and path
        return s
    out = []
    n = len(s)
    rev = None
    copied = 0  # s[:copied] is already in `out`
    bound = 0  # a local part may not reach back before this (the previous separator's end)
    pos = 0
    while (sep := _SEP.search(s, pos)) is not None:
        at, pos = sep.span()
        domain = _DOMAIN.match(s, pos)
        if domain is not None and at > bound:
            if rev is None:
                rev = s[::-1]
            local = _LOCAL_REV.match(rev, n - at, n - bound)
            if local is not None:
                out.append(s[copied : at - (local.end() - local.start())])
                out.append(EMAIL_MARK)
                copied = pos = domain.end()
        bound = pos
    if not out:
        return s
    out.append(s[copied:])
    return "".join(out)


# --- phone numbers ------------------------------------------------------------------------------
# Candidates: an optional + or 00, digits with the usual separators (space, dot, dash, brackets),
# 7-15 digits in all (E.164), not glued to letters or other digits. _phone_sub then keeps what
# reads as something else: dates, times, prices and grouped thousands, decimals, IP addresses and
# versions, and plain digit runs (order ids, timestamps) unless they start with 0 or +.
_PHONE_HINT = re.compile(r"\d[\d .()+-]{5,}\d")
_PHONE = re.compile(r"(?<![\w+.,-])(?:\+|00)?\(?\d[\d ().-]{5,24}\d\)?(?![\w@])")
_DATE = re.compile(r"\d{1,4}[./ -]\d{1,2}[./ -]\d{1,4}")
_GROUPED = re.compile(r"\d{1,3}(?:([ ,.])\d{3})+(?:[.,]\d{1,2})?")
_CURRENCY = frozenset("$€£¥₹")


def _phone_sub(m: re.Match[str]) -> str:
    text = m.group().strip(" .-")
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15:
        return m.group()
    before = m.string[max(0, m.start() - 2) : m.start()]
    lead = text.startswith(("+", "0", "(0", "(+"))
    if any(c in _CURRENCY for c in before) or _DATE.fullmatch(text) or _GROUPED.fullmatch(text):
        return m.group()
    if digits == 13 and text.startswith(("978", "979")):  # an ISBN
        return m.group()
    separators = {c for c in text if not c.isdigit()} - {"+"}
    if not separators and not lead:  # a plain run: an order id or a timestamp, unless 0/+ starts it
        return m.group()
    if separators <= {"."} and not lead:  # decimals, versions, IP addresses
        return m.group()
    return m.group().replace(text, PHONE_MARK, 1)


# --- secret-looking tokens in paths -----------------------------------------------------------
# JWTs (every JWS header is base64 of '{"', hence "eyJ") and long runs of base64url characters,
# both starting where a run starts: the lookbehind makes every other position fail at once, which
# keeps the scan linear on paths made of many runs just under 32 characters.
_TOKENISH = re.compile(r"(?<![A-Za-z0-9_-])(?:eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]{32,})")
_HEX_ID = re.compile(r"[0-9A-Fa-f-]+")
_PIECE = re.compile(r"[A-Za-z0-9]{16,}")
_DIGIT = re.compile(r"[0-9]")
_NO_DIGITS = str.maketrans("", "", "0123456789")
_RUN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _looks_secret(run: str) -> bool:
    """Heuristic: hashes/UUIDs (32+ hex digits) and random base64url, but not long readable slugs."""
    if _HEX_ID.fullmatch(run) and len(run) - run.count("-") >= 32 and _DIGIT.search(run):
        return True
    # Random base64url has long stretches without "-"/"_" that mix digits with letters of both
    # cases (or are digit-heavy, for lower-case base36 ids); slugs are short words joined by "-".
    for piece in _PIECE.findall(run):
        digits = len(piece) - len(piece.translate(_NO_DIGITS))
        if digits and (digits * 4 >= len(piece) or (not piece.islower() and not piece.isupper())):
            return True
    return False


def _token_sub(m: re.Match[str]) -> str:
    text = m.group()
    return TOKEN_MARK if text.startswith("eyJ") and "." in text or _looks_secret(text) else text


def _redact_path(path: str) -> str:
    """E-mails, tokens and phone numbers in the path part of a URL (no query, no fragment)."""
    return redact_text(path)


def _cap_path(path: str) -> str:
    """Cut a path to MAX_PATH without leaving half a token or half a marker behind.

    Cutting inside a run of token characters could turn a readable run into a shorter one that
    looks different to the next cleaning, so the partial run is dropped too: that keeps cleaning
    idempotent.
    """
    if len(path) <= MAX_PATH:
        return path
    return path[:MAX_PATH].rstrip(_RUN_CHARS + "[")


# --- page paths -------------------------------------------------------------------------------
_SPECIAL = re.compile("[?#@%\uff20]")  # what sends a path down the slow path


def clean_page_path(raw: str) -> str:
    """Drop the fragment and non-allowlisted query parameters, redact e-mails and tokens.

    `raw` starts with "/" (the caller validated it). The result starts with "/" and has at most
    MAX_PATH characters.
    """
    return _clean_page_path_remembered(raw) if len(raw) <= MEMO_LENGTH else _clean_page_path(raw)


def _clean_page_path(raw: str) -> str:
    if _SPECIAL.search(raw) is None:
        # Fast path, most page views: nothing to drop and no address; only a long path can hold
        # a token (a JWT needs "eyJ" and a few dots, other tokens 32 characters), only one with
        # seven digits close together a phone number.
        phone = _has_phone_digits(raw)
        if len(raw) < 32 and "eyJ" not in raw and not phone:
            return raw
        if phone:
            raw = _PHONE.sub(_phone_sub, raw)
        return _cap_path(_TOKENISH.sub(_token_sub, raw))
    raw = raw.partition("#")[0]
    path, _, query = raw.partition("?")
    path = _redact_path(path)
    kept = []
    if query:
        allowed = ALLOWED_QUERY_PARAMS
        for part in query.split("&"):
            name, eq, value = part.partition("=")
            if name in allowed:
                # Redact before cutting, so a cut cannot hide the end of an address from the regex.
                kept.append(name + eq + _redact_query_value(value)[:MAX_QUERY_VALUE] if value else part)
    if kept:
        result = path + "?" + "&".join(kept)
        if len(result) <= MAX_PATH:
            return result
    # Only reachable through redaction making a near-limit path longer: drop the query first.
    return _cap_path(path)


_clean_page_path_remembered = lru_cache(maxsize=MEMO_SIZE)(_clean_page_path)


def _redact_query_value(value: str) -> str:
    """A query value redacted as the text it encodes ("+44+7700+900123" is a phone number): kept
    as written when nothing is found, re-encoded when something was."""
    redacted = redact_text(value)
    if "+" in value or "%" in value:
        decoded = unquote_plus(value)
        cleaned = redact_text(decoded)
        if cleaned != decoded:
            return quote_plus(cleaned, safe="[]")
    return redacted


# --- referrers and links ----------------------------------------------------------------------
# scheme://[userinfo@]host[:port] followed by the end or a path/query/fragment. The userinfo can
# hold credentials or an address, so it never survives.
_AUTHORITY = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]{0,31})://(?:[^/?#\\]*@)?"
    r"(\[[0-9A-Fa-f:.]{2,45}\]|[\w-]+(?:\.[\w-]+)*\.?)(?::([0-9]{1,5}))?(?=[/?#\\]|\Z)"
)
_PLAIN_ORIGIN = re.compile(r"(https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?:[/?#]|\Z)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Schemes whose "host" is not a place anyone came from.
_NOT_ORIGINS = frozenset(("javascript", "vbscript", "data", "blob", "file", "about"))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31}):")


def _origin(url: str) -> tuple[str, int] | None:
    """(origin, index where the path starts), or None when `url` has no usable authority."""
    m = _AUTHORITY.match(url)
    if m is None:
        return None
    scheme, host, port = m.group(1).lower(), m.group(2).lower().rstrip("."), m.group(3)
    if scheme in _NOT_ORIGINS or not host or len(host) > 253:
        return None
    origin = f"{scheme}://{host}"
    if port is not None:
        number = int(port)
        if not 0 < number < 65536:
            return None
        if _DEFAULT_PORTS.get(scheme) != number:
            origin += f":{number}"
    return origin, m.end()


def reduce_referrer(raw: str) -> str | None:
    """Keep the origin of a referring URL ("https://www.google.com"); None for anything else.

    App referrers such as "android-app://com.google.android.gm/" keep scheme and host too.
    """
    if type(raw) is not str:
        return None
    m = _PLAIN_ORIGIN.match(raw)
    if m is not None:  # the usual "https://www.google.com/...": already lower-case, no port
        return m.group(1)
    found = _origin(raw.strip())
    return found[0] if found is not None else None


def clean_href(raw: str) -> str | None:
    """A clicked link without its query, fragment, credentials or addresses.

    "https://x.com/a?b#c" -> "https://x.com/a"; "mailto:jo@x.com" -> "mailto:"; "tel:+44..." ->
    "tel:" (any link without "//" keeps only its scheme); a relative link keeps its cleaned path.
    """
    if type(raw) is not str:
        return None
    s = raw.strip()
    m = _SCHEME.match(s)
    if m is not None:
        if s[m.end() : m.end() + 2] != "//":
            return m.group(1).lower() + ":"
        found = _origin(s)
        if found is None:
            return None
        origin, at = found
        path = _redact_path(s[at:].partition("#")[0].partition("?")[0].replace("\\", "/"))
        return _cap_path(origin + path).rstrip()  # "/a ?q" must not keep the space: idempotence
    path = s.partition("#")[0].partition("?")[0]
    return _cap_path(_redact_path(path)).rstrip() or None


# --- params -----------------------------------------------------------------------------------
def clean_params(params: dict[str, Any], event_name: str) -> dict[str, Any]:
    """Clean an already validated flat params object.

    Strings lose e-mail addresses (keys too); `referrer` is reduced to its origin and `href` to a
    link without query. Those two rules apply whatever the event (not only page_view or
    outbound_click/file_download), so a custom event cannot carry a full URL past them;
    `event_name` is there for per-event rules. Non-string referrer/href values become None.
    """
    out = {}
    for key, value in params.items():
        if type(value) is str:
            if key == "referrer":
                value = reduce_referrer(value)
            elif key == "href":
                value = clean_href(value)
            else:
                value = redact_text(value)
                if len(value) > MAX_TEXT:
                    value = value[:MAX_TEXT]
        elif key == "referrer" or key == "href":
            value = None
        out[redact_text(key)[:MAX_KEY]] = value
    return out
