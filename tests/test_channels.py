"""channels.classify: GA4 default channel groups (plus AI Assistants) from referrer, UTM and click ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadtrail import channels
from leadtrail.channels import classify, host_of, site_of

# (id, classify keyword arguments, expected channel, expected display source)
CASES = [
    ("nothing", {}, "Direct", "(direct)"),
    ("campaign-only", {"utm_campaign": "spring"}, "Direct", "(direct)"),
    (
        "cross-network",
        {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "pmax cross-network"},
        "Cross-network",
        "google",
    ),
    ("paid-shopping-site", {"utm_source": "amazon", "utm_medium": "cpc"}, "Paid Shopping", "amazon"),
    (
        "paid-shopping-campaign",
        {"utm_source": "newsletterco", "utm_medium": "ppc", "utm_campaign": "winter-shop"},
        "Paid Shopping",
        "newsletterco",
    ),
    ("paid-search-cpc", {"utm_source": "google", "utm_medium": "cpc"}, "Paid Search", "google"),
    ("paid-search-ppc", {"utm_source": "bing", "utm_medium": "ppc"}, "Paid Search", "bing"),
    ("paid-search-paidsearch", {"utm_source": "duckduckgo", "utm_medium": "paidsearch"}, "Paid Search", "duckduckgo"),
    ("paid-search-retargeting", {"utm_source": "yahoo", "utm_medium": "retargeting"}, "Paid Search", "yahoo"),
    ("paid-search-uppercase", {"utm_source": "Google", "utm_medium": "CPC"}, "Paid Search", "Google"),
    ("paid-social", {"utm_source": "facebook", "utm_medium": "paid_social"}, "Paid Social", "facebook"),
    ("paid-social-host", {"utm_source": "linkedin.com", "utm_medium": "cpc"}, "Paid Social", "linkedin.com"),
    ("paid-video", {"utm_source": "youtube", "utm_medium": "cpv"}, "Paid Video", "youtube"),
    ("display", {"utm_source": "adnet", "utm_medium": "display"}, "Display", "adnet"),
    ("display-banner", {"utm_source": "adnet", "utm_medium": "banner"}, "Display", "adnet"),
    ("display-cpm", {"utm_source": "adnet", "utm_medium": "cpm"}, "Display", "adnet"),
    ("display-interstitial", {"utm_source": "adnet", "utm_medium": "interstitial"}, "Display", "adnet"),
    ("paid-other", {"utm_source": "adnet", "utm_medium": "cpc"}, "Paid Other", "adnet"),
    ("paid-other-no-source", {"utm_medium": "paid"}, "Paid Other", "(not set)"),
    ("organic-shopping", {"referrer_host": "https://www.etsy.com"}, "Organic Shopping", "etsy"),
    (
        "organic-shopping-campaign",
        {"utm_source": "partner", "utm_medium": "link", "utm_campaign": "shopping-week"},
        "Organic Shopping",
        "partner",
    ),
    ("organic-social-referrer", {"referrer_host": "https://l.facebook.com"}, "Organic Social", "facebook"),
    ("organic-social-instagram", {"referrer_host": "https://l.instagram.com"}, "Organic Social", "instagram"),
    ("organic-social-tco", {"referrer_host": "https://t.co"}, "Organic Social", "x"),
    ("organic-social-x", {"referrer_host": "https://x.com"}, "Organic Social", "x"),
    ("organic-social-reddit", {"referrer_host": "https://old.reddit.com"}, "Organic Social", "reddit"),
    ("organic-social-mastodon", {"referrer_host": "https://mastodon.social"}, "Organic Social", "mastodon"),
    ("organic-social-threads", {"referrer_host": "https://www.threads.net"}, "Organic Social", "threads"),
    ("organic-social-app", {"referrer_host": "android-app://com.linkedin.android"}, "Organic Social", "linkedin"),
    ("medium-social", {"utm_source": "club", "utm_medium": "social"}, "Organic Social", "club"),
    ("medium-social-network", {"utm_source": "club", "utm_medium": "social-network"}, "Organic Social", "club"),
    ("medium-sm", {"utm_source": "club", "utm_medium": "sm"}, "Organic Social", "club"),
    ("organic-video-referrer", {"referrer_host": "https://www.youtube.com"}, "Organic Video", "youtube"),
    ("organic-video-youtu-be", {"referrer_host": "https://youtu.be"}, "Organic Video", "youtube"),
    ("organic-video-vimeo", {"referrer_host": "https://vimeo.com"}, "Organic Video", "vimeo"),
    ("organic-video-medium", {"utm_source": "webinar", "utm_medium": "video"}, "Organic Video", "webinar"),
    ("organic-search-google", {"referrer_host": "https://www.google.com"}, "Organic Search", "google"),
    ("organic-search-google-uk", {"referrer_host": "https://www.google.co.uk"}, "Organic Search", "google"),
    ("organic-search-bing", {"referrer_host": "https://www.bing.com"}, "Organic Search", "bing"),
    ("organic-search-ddg", {"referrer_host": "https://duckduckgo.com"}, "Organic Search", "duckduckgo"),
    ("organic-search-ecosia", {"referrer_host": "https://www.ecosia.org"}, "Organic Search", "ecosia"),
    ("organic-search-brave", {"referrer_host": "https://search.brave.com"}, "Organic Search", "brave"),
    ("organic-search-yandex", {"referrer_host": "https://yandex.ru"}, "Organic Search", "yandex"),
    ("organic-search-yahoo-jp", {"referrer_host": "https://search.yahoo.co.jp"}, "Organic Search", "yahoo"),
    (
        "organic-search-google-app",
        {"referrer_host": "android-app://com.google.android.googlequicksearchbox"},
        "Organic Search",
        "google",
    ),
    (
        "organic-search-medium",
        {"utm_source": "localdirectory", "utm_medium": "organic"},
        "Organic Search",
        "localdirectory",
    ),
    ("google-docs-is-referral", {"referrer_host": "https://docs.google.com"}, "Referral", "docs.google.com"),
    ("referral-host", {"referrer_host": "https://www.weddingblog.example"}, "Referral", "weddingblog.example"),
    ("referral-medium", {"utm_source": "partner", "utm_medium": "referral"}, "Referral", "partner"),
    ("referral-app", {"utm_source": "partner", "utm_medium": "app"}, "Referral", "partner"),
    ("email", {"utm_source": "newsletter", "utm_medium": "email"}, "Email", "newsletter"),
    ("e-mail", {"utm_source": "newsletter", "utm_medium": "e-mail"}, "Email", "newsletter"),
    ("e_mail", {"utm_source": "newsletter", "utm_medium": "e_mail"}, "Email", "newsletter"),
    ("e mail", {"utm_source": "newsletter", "utm_medium": "e mail"}, "Email", "newsletter"),
    ("email-source", {"utm_source": "email"}, "Email", "email"),
    ("webmail-gmail", {"referrer_host": "https://mail.google.com"}, "Email", "gmail"),
    ("webmail-outlook", {"referrer_host": "https://outlook.live.com"}, "Email", "outlook"),
    ("webmail-gmail-app", {"referrer_host": "android-app://com.google.android.gm"}, "Email", "gmail"),
    ("affiliate", {"utm_source": "awin", "utm_medium": "affiliate"}, "Affiliates", "awin"),
    ("audio", {"utm_source": "podcastnet", "utm_medium": "audio"}, "Audio", "podcastnet"),
    ("sms-medium", {"utm_source": "twilio", "utm_medium": "sms"}, "SMS", "twilio"),
    ("sms-source", {"utm_source": "sms"}, "SMS", "sms"),
    ("push-suffix", {"utm_source": "app", "utm_medium": "web-push"}, "Mobile Push Notifications", "app"),
    ("push-mobile", {"utm_source": "app", "utm_medium": "mobile-alert"}, "Mobile Push Notifications", "app"),
    ("push-notification", {"utm_source": "app", "utm_medium": "notification"}, "Mobile Push Notifications", "app"),
    ("push-firebase", {"utm_source": "firebase"}, "Mobile Push Notifications", "firebase"),
    ("unassigned-source", {"utm_source": "flyer"}, "Unassigned", "flyer"),
    ("unassigned-medium", {"utm_source": "flyer", "utm_medium": "print"}, "Unassigned", "flyer"),
    # AI assistants: referrers and the utm_source some of them append, checked before search/referral.
    ("ai-chatgpt", {"referrer_host": "https://chatgpt.com"}, "AI Assistants", "chatgpt"),
    ("ai-chat-openai", {"referrer_host": "https://chat.openai.com"}, "AI Assistants", "chatgpt"),
    ("ai-chatgpt-utm", {"utm_source": "chatgpt.com"}, "AI Assistants", "chatgpt.com"),
    ("ai-perplexity", {"referrer_host": "https://www.perplexity.ai"}, "AI Assistants", "perplexity"),
    ("ai-gemini-not-search", {"referrer_host": "https://gemini.google.com"}, "AI Assistants", "gemini"),
    ("ai-copilot-not-search", {"referrer_host": "https://copilot.microsoft.com"}, "AI Assistants", "copilot"),
    ("ai-claude", {"referrer_host": "https://claude.ai"}, "AI Assistants", "claude"),
    ("ai-you", {"referrer_host": "https://you.com"}, "AI Assistants", "you.com"),
    ("ai-poe", {"referrer_host": "https://poe.com"}, "AI Assistants", "poe"),
    ("ai-deepseek", {"referrer_host": "https://chat.deepseek.com"}, "AI Assistants", "deepseek"),
    (
        "ai-utm-over-referral-medium",
        {"utm_source": "perplexity", "utm_medium": "referral"},
        "AI Assistants",
        "perplexity",
    ),
    # Click ids.
    ("gclid", {"click_ids": {"gclid": "abc"}}, "Paid Search", "google"),
    ("gbraid", {"click_ids": {"gbraid": "abc"}}, "Paid Search", "google"),
    ("wbraid", {"click_ids": {"wbraid": "abc"}}, "Paid Search", "google"),
    (
        "gclid-beats-utm",
        {"click_ids": {"gclid": "abc"}, "utm_source": "newsletter", "utm_medium": "email"},
        "Paid Search",
        "google",
    ),
    (
        "gclid-beats-referrer",
        {"click_ids": {"gclid": "abc"}, "referrer_host": "https://www.google.com"},
        "Paid Search",
        "google",
    ),
    ("gclid-pmax", {"click_ids": {"gclid": "abc"}, "utm_campaign": "cross-network pmax"}, "Cross-network", "google"),
    ("gclid-shopping", {"click_ids": {"gclid": "abc"}, "utm_campaign": "shopping"}, "Paid Shopping", "google"),
    ("msclkid", {"click_ids": {"msclkid": "abc"}}, "Paid Search", "bing"),
    ("dclid", {"click_ids": {"dclid": "abc"}}, "Display", "dv360"),
    ("ttclid", {"click_ids": {"ttclid": "abc"}}, "Paid Social", "tiktok"),
    ("li_fat_id", {"click_ids": {"li_fat_id": "abc"}}, "Paid Social", "linkedin"),
    ("twclid", {"click_ids": {"twclid": "abc"}}, "Paid Social", "x"),
    ("msclkid-with-utm-source", {"click_ids": {"msclkid": "abc"}, "utm_source": "bing"}, "Paid Search", "bing"),
    ("fbclid-is-organic", {"click_ids": {"fbclid": "abc"}}, "Organic Social", "facebook"),
    (
        "fbclid-with-instagram-referrer",
        {"click_ids": {"fbclid": "abc"}, "referrer_host": "https://l.instagram.com"},
        "Organic Social",
        "instagram",
    ),
    (
        "fbclid-with-paid-utm",
        {"click_ids": {"fbclid": "abc"}, "utm_source": "facebook", "utm_medium": "paid"},
        "Paid Social",
        "facebook",
    ),
    ("empty-click-id-ignored", {"click_ids": {"gclid": ""}}, "Direct", "(direct)"),
]


@pytest.mark.parametrize(("kwargs", "channel", "source"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_classify_table(kwargs, channel, source):
    """Each attribution input maps to the GA4 channel group and display source in the table."""
    result = classify(**kwargs)
    assert (result.channel, result.source) == (channel, source)


def test_every_channel_group_is_covered_by_the_table():
    """The table reaches every channel group classify() can return, so none goes untested."""
    reached = {classify(**kwargs).channel for _, kwargs, _, _ in CASES}
    assert reached == set(channels.CHANNEL_GROUPS)


def test_direct_has_google_spelling_of_source_and_medium():
    """A visit with no referrer, UTM or click id is (direct) / (none)."""
    assert classify() == channels.Attribution("Direct", "(direct)", "(none)")


def test_referrer_medium_is_organic_for_search_and_referral_otherwise():
    """A referrer alone gets GA4's inferred medium: organic for search engines, referral for sites."""
    assert classify(referrer_host="https://www.google.com").medium == "organic"
    assert classify(referrer_host="https://example.org").medium == "referral"


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("https://www.google.com", "google.com"),
        ("https://WWW.Google.COM:443/search?q=x", "google.com"),
        ("www.bing.com", "bing.com"),
        ("android-app://com.google.android.gm", "com.google.android.gm"),
        ("http://[::1]:8080", "::1"),
        ("https://bücher.example", "bücher.example"),
        ("", None),
        ("   ", None),
        (None, None),
        (42, None),
        ("http://[::1", None),
        ("https://", None),
        ('https://"><img src=x onerror=alert(1)>.example/', None),
        ("https://a b.example", None),
    ],
)
def test_host_of(raw, host):
    """host_of reduces a referrer URL, origin or host to a lower-case host without www., or None."""
    assert host_of(raw) == host


def test_site_of_prefers_the_most_specific_host():
    """A subdomain entry (gemini.google.com) wins over its parent site's category (google search)."""
    assert site_of("gemini.google.com") == ("gemini", "ai")
    assert site_of("news.google.com") == ("google", "search")
    assert site_of("not-a-known-site.example") is None


def test_click_id_params_cover_the_documented_ids():
    """journeys reads these query keys from the landing page; the documented click ids are among them."""
    for key in ("gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid"):
        assert key in channels.CLICK_ID_PARAMS


_junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40), st.lists(st.integers(), max_size=2)
)


@settings(deadline=None)
@given(
    referrer=_junk,
    source=_junk,
    medium=_junk,
    campaign=_junk,
    click_ids=st.one_of(st.none(), _junk, st.dictionaries(st.text(max_size=10), _junk, max_size=3)),
)
def test_classify_never_raises_and_returns_a_known_group(referrer, source, medium, campaign, click_ids):
    """Any junk in any input still yields one of the known channel groups and a non-empty source."""
    result = classify(
        referrer_host=referrer, utm_source=source, utm_medium=medium, utm_campaign=campaign, click_ids=click_ids
    )
    assert result.channel in channels.CHANNEL_GROUPS
    assert isinstance(result.source, str) and result.source
