"""bots.py: known crawlers, scripts and headless browsers are recognised; people's browsers are not."""

from __future__ import annotations

import crawleruseragents
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadtrail.bots import MAX_USER_AGENT, _expand, _matches, is_bot

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
    "Edg/124.0.2478.80",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 "
    "Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "[FBAN/FBIOS;FBAV/460.0.0.38.107;]",
]
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 "
    "Safari/537.36",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
]


@pytest.mark.parametrize("user_agent", BROWSERS)
def test_ordinary_browsers_are_not_bots(user_agent):
    """Current desktop and mobile browsers (including in-app ones) pass."""
    assert is_bot(user_agent) is False


@pytest.mark.parametrize("user_agent", BOTS)
def test_known_bots_are_bots(user_agent):
    """Search crawlers, AI crawlers, link previewers, headless Chrome and HTTP libraries are bots."""
    assert is_bot(user_agent) is True


@pytest.mark.parametrize("user_agent", [None, "", " ", "\t\n", "x" * (MAX_USER_AGENT + 1)])
def test_missing_blank_or_oversized_user_agents_are_bots(user_agent):
    """No User-Agent, a blank one, or one longer than any browser sends counts as a bot."""
    assert is_bot(user_agent) is True


def test_every_example_in_the_list_gets_the_lists_own_verdict():
    """For every example UA shipped with crawler-user-agents, is_bot agrees with the package's is_crawler."""
    examples = {ua for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for ua in entry.get("instances", [])}
    assert len(examples) > 1000
    disagree = [
        ua for ua in examples if ua and len(ua) <= MAX_USER_AGENT and _matches(ua) != crawleruseragents.is_crawler(ua)
    ]
    assert disagree == []


fragments = st.sampled_from(
    [
        p
        for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA[::7]
        for p in [entry["pattern"].replace("\\", "").lstrip("^").rstrip("$")]
    ]
    + BROWSERS
)


@settings(max_examples=200)
@given(st.lists(st.one_of(fragments, st.text(max_size=6)), min_size=1, max_size=4).map(" ".join))
def test_is_bot_agrees_with_the_package_on_generated_user_agents(user_agent):
    """Mixed-up pieces of patterns and browser UAs get exactly the package's verdict."""
    if user_agent.strip() and len(user_agent) <= MAX_USER_AGENT:
        assert _matches.__wrapped__(user_agent) == crawleruseragents.is_crawler(user_agent)


@pytest.mark.parametrize(
    "pattern,words",
    [
        ("Googlebot\\/", ["Googlebot/"]),
        ("[wW]get", ["wget", "Wget"]),
        ("Ahrefs(Bot|SiteAudit)", ["AhrefsBot", "AhrefsSiteAudit"]),
        ("(sistrix|SISTRIX) [cC]rawler", ["sistrix crawler", "sistrix Crawler", "SISTRIX crawler", "SISTRIX Crawler"]),
        ("Chirp|gotosocial", ["Chirp", "gotosocial"]),
        ("BlogTraffic\\/\\d\\.\\d+", None),
        ("Current[\\s\\S]*RSS", None),
        ("AdsBot-Google([^-]|$)", None),
        ("SSL Labs$", None),
        ("a.b", None),
        ("[a-z]bot", None),
    ],
)
def test_pattern_expansion(pattern, words):
    """Finite patterns expand to their exact set of strings; anything else is left to the regex engine."""
    assert _expand(pattern) == words


def test_results_are_cached_per_user_agent():
    """A repeated user agent is answered from a bounded LRU cache."""
    assert _matches.cache_info().maxsize == 4096
    ua = BROWSERS[0] + " cache-test"
    is_bot(ua)
    hits = _matches.cache_info().hits
    assert is_bot(ua) is False
    assert _matches.cache_info().hits == hits + 1
