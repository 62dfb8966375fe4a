"""cleaning.py: page paths, referrers, hrefs and free text lose what attribution does not need."""

from __future__ import annotations

import re
import string
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadtrail.cleaning import (
    ALLOWED_QUERY_PARAMS,
    MAX_PATH,
    MAX_QUERY_VALUE,
    MAX_TEXT,
    clean_href,
    clean_page_path,
    clean_params,
    redact_text,
    reduce_referrer,
)

# A plain, widely used e-mail pattern: what "an e-mail address got through" means in these tests.
REFERENCE_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

PAGE_PATHS = [
    # (input, expected)
    ("/", "/"),
    ("/services/boiler-repair", "/services/boiler-repair"),
    ("/pricing?utm_source=news&email=a@b.com&x=1#top", "/pricing?utm_source=news"),
    ("/x?a=1&b=2", "/x"),
    ("/x?", "/x"),
    ("/x#section", "/x"),
    ("/x?utm_medium=cpc#a?utm_source=hidden", "/x?utm_medium=cpc"),
    (
        "/l?fbclid=IwAR0&gclid=Cj0K&msclkid=m1&ttclid=t&twclid=w&li_fat_id=l&dclid=d&gbraid=g&wbraid=w2",
        "/l?fbclid=IwAR0&gclid=Cj0K&msclkid=m1&ttclid=t&twclid=w&li_fat_id=l&dclid=d&gbraid=g&wbraid=w2",
    ),
    (
        "/l?utm_campaign=spring&q=secret&utm_source=g&utm_source=dup",
        "/l?utm_campaign=spring&utm_source=g&utm_source=dup",
    ),
    (
        "/l?ref=producthunt&source=newsletter&utm_id=7&utm_term=boiler&utm_content=b",
        "/l?ref=producthunt&source=newsletter&utm_id=7&utm_term=boiler&utm_content=b",
    ),
    ("/l?ref&utm_source=", "/l?ref&utm_source="),
    ("/l?UTM_SOURCE=x", "/l"),  # names are matched exactly, as browsers send them
    ("/contact/john.doe@example.com/thanks", "/contact/[email]/thanks"),
    ("/u/john%40example.com", "/u/[email]"),
    ("/u/john%2540example.com", "/u/[email]"),
    ("/u/j%2Bnews%40gmail%2Ecom?ref=x", "/u/[email]?ref=x"),
    ("/x?utm_source=jo@example.org&utm_medium=email", "/x?utm_source=[email]&utm_medium=email"),
    ("/x?utm_source=jo%40example.org", "/x?utm_source=[email]"),
    ("/@acme", "/@acme"),  # a handle is not an address
    ("/@john.doe/posts", "/@john.doe/posts"),
    ("/reset/550e8400-e29b-41d4-a716-446655440000", "/reset/[token]"),
    ("/dl/d41d8cd98f00b204e9800998ecf8427e.pdf", "/dl/[token].pdf"),
    ("/v/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "/v/[token]"),
    ("/magic/kQ8vZ2xLpR7mNc4TbW9yHf3JdUe6AsGo1Xi", "/magic/[token]"),
    ("/order;jsessionid=A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6", "/order;jsessionid=[token]"),
    ("/how-to-choose-the-right-plumber-for-your-home-2024", "/how-to-choose-the-right-plumber-for-your-home-2024"),
    ("/windows10installationguide-for-beginners", "/windows10installationguide-for-beginners"),
    ("/café/menü?utm_source=über", "/café/menü?utm_source=über"),
]


@pytest.mark.parametrize("raw,expected", PAGE_PATHS)
def test_clean_page_path_examples(raw, expected):
    """Each example path is reduced to exactly the expected cleaned form."""
    assert clean_page_path(raw) == expected


def test_long_allowlisted_values_are_truncated():
    """An allowlisted value longer than MAX_QUERY_VALUE characters is cut to that length."""
    assert clean_page_path("/x?utm_campaign=" + "c" * 500) == "/x?utm_campaign=" + "c" * MAX_QUERY_VALUE


def test_redaction_that_lengthens_a_full_path_keeps_it_within_the_limit():
    """A near-limit path full of short addresses (each redaction adds characters) stays <= MAX_PATH and idempotent."""
    raw = "/" + "/".join(["a@b.c"] * 400) + "?utm_source=x"
    raw = raw[:MAX_PATH]
    out = clean_page_path(raw)
    assert len(out) <= MAX_PATH and out.startswith("/") and "@" not in out
    assert clean_page_path(out) == out


REFERRERS = [
    ("https://www.google.com/search?q=my+secret", "https://www.google.com"),
    ("https://www.google.com", "https://www.google.com"),
    ("HTTPS://WWW.Bing.COM/search?q=x", "https://www.bing.com"),
    ("https://user:pass@example.com:443/path", "https://example.com"),
    ("http://example.com:80/", "http://example.com"),
    ("http://localhost:8080/admin", "http://localhost:8080"),
    ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443"),
    ("android-app://com.google.android.gm/", "android-app://com.google.android.gm"),
    ("android-app://com.linkedin.android", "android-app://com.linkedin.android"),
    ("  https://t.co/abc  ", "https://t.co"),
    ("https://www.google.com./", "https://www.google.com"),
    ("", None),
    ("about:blank", None),
    ("www.google.com", None),
    ("/relative/path", None),
    ("javascript://alert(1)", None),
    ("data://text/html,hi", None),
    ("file:///etc/passwd", None),
    ("https://", None),
    ("https://exa mple.com/", None),
    ("http://x.com:99999/", None),
    ("https://<script>/", None),
    (42, None),
]


@pytest.mark.parametrize("raw,expected", REFERRERS)
def test_reduce_referrer_examples(raw, expected):
    """A referrer keeps only its origin (app referrers: scheme and host); junk becomes None."""
    assert reduce_referrer(raw) == expected


HREFS = [
    ("https://partner.example/offer?id=7&email=a@b.com#x", "https://partner.example/offer"),
    ("https://jo:secret@example.com/a/b", "https://example.com/a/b"),
    ("https://example.com/u/jo@example.com/profile", "https://example.com/u/[email]/profile"),
    ("mailto:jo@example.com?subject=hi", "mailto:"),
    ("MAILTO:jo@example.com", "mailto:"),
    ("tel:+44 20 7946 0000", "tel:"),
    ("sms:+447700900000", "sms:"),
    ("/files/brochure.pdf?download=1", "/files/brochure.pdf"),
    ("brochure.pdf", "brochure.pdf"),
    ("/files/a.pdf ?x", "/files/a.pdf"),
    ("https://example.com/files/550e8400-e29b-41d4-a716-446655440000.pdf", "https://example.com/files/[token].pdf"),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("raw,expected", HREFS)
def test_clean_href_examples(raw, expected):
    """A clicked link keeps scheme, host and path; mailto:/tel: keep only the scheme."""
    assert clean_href(raw) == expected


def test_clean_params_applies_each_rule():
    """Titles lose addresses, referrer and href are reduced, other scalars pass unchanged."""
    params = {
        "title": "Thanks jo@example.com!",
        "referrer": "https://www.google.com/search?q=x",
        "href": "mailto:jo@example.com",
        "engaged_ms": 5400,
        "ratio": 0.5,
        "ok": True,
        "none": None,
        "jo@example.com": "key with an address",
    }
    assert clean_params(params, "page_view") == {
        "title": "Thanks [email]!",
        "referrer": "https://www.google.com",
        "href": "mailto:",
        "engaged_ms": 5400,
        "ratio": 0.5,
        "ok": True,
        "none": None,
        "[email]": "key with an address",
    }


def test_clean_params_non_string_referrer_and_long_text():
    """A non-string referrer or href becomes None and text is kept within MAX_TEXT after redaction."""
    out = clean_params({"referrer": 5, "href": False, "note": "a@b.c " * 200}, "custom")
    assert out["referrer"] is None and out["href"] is None
    assert len(out["note"]) == MAX_TEXT and "@" not in out["note"]


def test_redact_text_leaves_ordinary_text_alone():
    """Text without an address (even with "@" handles and "%" signs) is returned unchanged."""
    for text in ("Boiler repair | Acme", "50% off this week", "Follow @acme", "a @ b . com", "user@localhost"):
        assert redact_text(text) == text


# --- properties -------------------------------------------------------------------------------
LOCAL_CHARS = string.ascii_letters + string.digits + "._%+-"
local_parts = st.text(alphabet=LOCAL_CHARS, min_size=1, max_size=30).filter(lambda s: s.strip("."))
labels = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
domains = st.builds(
    lambda ls, tld: ".".join(ls + [tld]),
    st.lists(labels, min_size=1, max_size=3),
    st.text(alphabet=string.ascii_letters, min_size=2, max_size=6),
)
simple_emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
# Hypothesis' RFC 5322 addresses, minus local parts with "/", which a path reads as a separator.
any_emails = st.one_of(simple_emails, st.emails().filter(lambda e: "/" not in e.rpartition("@")[0]))
PATH_TEXT = string.ascii_letters + string.digits + "-_./~"
path_text = st.text(alphabet=PATH_TEXT, max_size=20)
encodings = st.sampled_from(
    [
        lambda e: e,
        lambda e: quote(e, safe="@"),
        lambda e: quote(e, safe=""),
        lambda e: quote(quote(e, safe=""), safe=""),
        lambda e: e.replace("@", "%40"),
        lambda e: e.replace("@", "\uff20"),
    ]
)


def leaked(email: str, out: str) -> bool:
    """Whether the address (or its domain after the "@") is still readable in `out`, even once decoded."""
    domain = email.rpartition("@")[2].lower()
    views = [out.lower(), unquote(out).lower(), unquote(unquote(out)).lower()]
    return any(email.lower() in v or "@" + domain in v or "\uff20" + domain in v for v in views)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    email=any_emails,
    encode=encodings,
    before=path_text,
    after=path_text,
    where=st.sampled_from(["path", "utm_source", "ref", "gclid"]),
)
def test_no_email_gets_through_clean_page_path(email, encode, before, after, where):
    """An address embedded in a path segment or an allowlisted value, plain or percent-encoded, never survives."""
    encoded = encode(email)
    if where == "path":
        raw = f"/{before}/{encoded}{after}/x"
    else:
        raw = f"/{before}?{where}={encoded}{after}&utm_medium=cpc"
    assume(len(raw) <= MAX_PATH)
    out = clean_page_path(raw)
    assert not leaked(email, out), (raw, out)
    if set(email.rpartition("@")[0]) <= set(LOCAL_CHARS):  # no "#", "?" or "&" cut it short first
        assert "[email]" in out


@settings(max_examples=300)
@given(email=any_emails, encode=encodings, before=st.text(max_size=20), after=st.text(max_size=20))
def test_no_email_gets_through_redact_text(email, encode, before, after):
    """An address inside arbitrary free text is replaced, whatever surrounds it."""
    assume("@" not in before + after and "%" not in before + after and "\uff20" not in before + after)
    out = redact_text(before + " " + encode(email) + " " + after)
    assert not leaked(email, out)


UTM_VALUE = string.ascii_letters + string.digits + "-_.~+"
utm_values = st.one_of(
    st.text(alphabet=UTM_VALUE, max_size=MAX_QUERY_VALUE),
    st.text(max_size=60)
    .filter(lambda s: "@" not in s and "%" not in s and "\uff20" not in s)
    .map(lambda s: quote(s, safe="")),
)


@given(
    source=utm_values,
    campaign=utm_values,
    click=st.text(alphabet=UTM_VALUE, max_size=100),
    junk=st.text(alphabet=UTM_VALUE, max_size=30),
)
def test_allowlisted_values_without_emails_survive_unchanged(source, campaign, click, junk):
    """UTM values and click ids without addresses come out exactly as sent, in order; other params go."""
    assume(len(source) <= MAX_QUERY_VALUE and len(campaign) <= MAX_QUERY_VALUE)
    raw = f"/landing?utm_source={source}&session={junk}&utm_campaign={campaign}&gclid={click}#frag"
    assert clean_page_path(raw) == f"/landing?utm_source={source}&utm_campaign={campaign}&gclid={click}"


VOCAB = [
    "/",
    "?",
    "&",
    "=",
    "#",
    "@",
    "%40",
    "%2540",
    "%2E",
    "%",
    ".",
    "-",
    "_",
    "\uff20",
    "eyJ",
    "utm_source",
    "ref",
    "gclid",
    "x",
    "jo",
    "example.com",
    "com",
    "a.b.c",
    "0123456789abcdef",
    "ABCDEFGH",
    "99",
    "[email]",
    "[token]",
    ";",
    ":",
    " ",
    "é",
]
fragments = st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=4), any_emails), max_size=40).map("".join)


@settings(max_examples=500)
@given(fragments)
def test_clean_page_path_is_idempotent_and_well_formed(tail):
    """Cleaning a cleaned path changes nothing; the result starts with "/", is short, and keeps only allowlisted params."""
    out = clean_page_path("/" + tail)
    assert clean_page_path(out) == out
    assert out.startswith("/") and len(out) <= MAX_PATH and "#" not in out
    path, _, query = out.partition("?")
    for part in query.split("&") if query else []:
        assert part.partition("=")[0] in ALLOWED_QUERY_PARAMS
    assert REFERENCE_EMAIL.search(out) is None and REFERENCE_EMAIL.search(unquote(out)) is None


@settings(max_examples=300)
@given(fragments)
def test_redact_text_is_idempotent_and_leaves_no_reference_match(text):
    """Redacting twice equals redacting once, and no common e-mail pattern matches the result."""
    out = redact_text(text)
    assert redact_text(out) == out
    assert REFERENCE_EMAIL.search(out) is None


@given(fragments)
def test_reduce_referrer_and_clean_href_are_idempotent(tail):
    """A reduced referrer or cleaned href reduces to itself."""
    for raw in ("https://" + tail, "android-app://" + tail, tail):
        ref = reduce_referrer(raw)
        assert ref is None or reduce_referrer(ref) == ref
        href = clean_href(raw)
        assert href is None or clean_href(href) == href
