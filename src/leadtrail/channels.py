"""GA4 default channel groups for one visit, plus an "AI Assistants" group.

Pure functions: referrer host + UTM values + click ids -> Attribution(channel, source, medium).
The rules and their order follow Google's "[GA4] Default channel group" table (first match wins);
source categories are a well-known subset of Google's source-category list. "AI Assistants" is
ours: it is checked after the paid rules (an explicit ad medium is still an ad) and before every
organic/referral rule, so chatgpt.com or gemini.google.com never read as Referral or Organic Search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

DIRECT, CROSS_NETWORK, UNASSIGNED = "Direct", "Cross-network", "Unassigned"
PAID_SHOPPING, PAID_SEARCH, PAID_SOCIAL, PAID_VIDEO = "Paid Shopping", "Paid Search", "Paid Social", "Paid Video"
DISPLAY, PAID_OTHER, AI_ASSISTANTS = "Display", "Paid Other", "AI Assistants"
ORGANIC_SHOPPING, ORGANIC_SOCIAL = "Organic Shopping", "Organic Social"
ORGANIC_VIDEO, ORGANIC_SEARCH = "Organic Video", "Organic Search"
REFERRAL, EMAIL, AFFILIATES, AUDIO, SMS = "Referral", "Email", "Affiliates", "Audio", "SMS"
MOBILE_PUSH = "Mobile Push Notifications"

# Every value classify() can return, in rule order.
CHANNEL_GROUPS = (
    DIRECT,
    CROSS_NETWORK,
    PAID_SHOPPING,
    PAID_SEARCH,
    PAID_SOCIAL,
    PAID_VIDEO,
    DISPLAY,
    PAID_OTHER,
    AI_ASSISTANTS,
    ORGANIC_SHOPPING,
    ORGANIC_SOCIAL,
    ORGANIC_VIDEO,
    ORGANIC_SEARCH,
    REFERRAL,
    EMAIL,
    AFFILIATES,
    AUDIO,
    SMS,
    MOBILE_PUSH,
    UNASSIGNED,
)

# Google's regexes and value lists, verbatim (GA4 matches them case-insensitively).
_PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_VIDEO_MEDIUM = re.compile(r"^(.*video.*)$")
_DISPLAY_MEDIA = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA = frozenset({"social", "social-network", "social-media", "sm", "social network", "social media"})
_REFERRAL_MEDIA = frozenset({"referral", "app", "link"})
_EMAIL_WORDS = frozenset({"email", "e-mail", "e_mail", "e mail"})

SEARCH, SOCIAL, VIDEO, SHOPPING, WEBMAIL, AI = "search", "social", "video", "shopping", "email", "ai"

# Registrable names (the label before the public suffix: google.co.uk -> "google"), also accepted
# as bare utm_source words. Only unambiguous names live here; short or generic ones are exact hosts.
_SITES_BY_NAME: dict[str, tuple[str, str]] = {
    **{
        n: (n, SEARCH)
        for n in (
            "google",
            "bing",
            "duckduckgo",
            "yahoo",
            "baidu",
            "yandex",
            "ecosia",
            "startpage",
            "qwant",
            "naver",
            "seznam",
            "sogou",
            "daum",
            "kagi",
            "mojeek",
            "ask",
            "aol",
            "dogpile",
            "brave",
        )
    },
    **{
        n: (n, SOCIAL)
        for n in (
            "facebook",
            "instagram",
            "linkedin",
            "pinterest",
            "reddit",
            "tiktok",
            "threads",
            "snapchat",
            "tumblr",
            "vk",
            "weibo",
            "quora",
            "whatsapp",
            "telegram",
            "discord",
            "mastodon",
            "bluesky",
            "nextdoor",
            "xing",
            "messenger",
            "wechat",
            "line",
        )
    },
    **{
        n: (n, VIDEO)
        for n in (
            "youtube",
            "vimeo",
            "twitch",
            "dailymotion",
            "wistia",
            "ted",
            "netflix",
            "hulu",
            "rumble",
            "iqiyi",
            "youku",
        )
    },
    **{
        n: (n, SHOPPING)
        for n in ("amazon", "ebay", "etsy", "walmart", "aliexpress", "alibaba", "mercadolibre", "shopify", "igshopping")
    },
    **{
        n: (n, AI)
        for n in (
            "chatgpt",
            "openai",
            "perplexity",
            "claude",
            "gemini",
            "copilot",
            "deepseek",
            "mistral",
            "grok",
            "phind",
        )
    },
    "twitter": ("x", SOCIAL),
    "fb": ("facebook", SOCIAL),
    "ig": ("instagram", SOCIAL),
    "x": ("x", SOCIAL),
    "yt": ("youtube", VIDEO),
    "gmail": ("gmail", WEBMAIL),
    "outlook": ("outlook", WEBMAIL),
}

# Exact hosts; a host also matches through its parent domains (the most specific entry wins).
# Category None means "known, but a plain referral" (e.g. docs.google.com is not a search).
_SITES_BY_HOST: dict[str, tuple[str, str | None]] = {
    # AI assistants, including those living on search or big-tech domains.
    "chat.openai.com": ("chatgpt", AI),
    "chatgpt.com": ("chatgpt", AI),
    "gemini.google.com": ("gemini", AI),
    "bard.google.com": ("gemini", AI),
    "copilot.microsoft.com": ("copilot", AI),
    "copilot.cloud.microsoft": ("copilot", AI),
    "edgeservices.bing.com": ("copilot", AI),
    "you.com": ("you.com", AI),
    "poe.com": ("poe", AI),
    "chat.deepseek.com": ("deepseek", AI),
    "chat.mistral.ai": ("mistral", AI),
    "meta.ai": ("meta.ai", AI),
    "pi.ai": ("pi.ai", AI),
    "character.ai": ("character.ai", AI),
    # Webmail: GA4 would call these Referral; an owner reads them as Email.
    "mail.google.com": ("gmail", WEBMAIL),
    "com.google.android.gm": ("gmail", WEBMAIL),
    "outlook.live.com": ("outlook", WEBMAIL),
    "outlook.office.com": ("outlook", WEBMAIL),
    "outlook.office365.com": ("outlook", WEBMAIL),
    "mail.yahoo.com": ("yahoo mail", WEBMAIL),
    "mail.proton.me": ("proton mail", WEBMAIL),
    "app.fastmail.com": ("fastmail", WEBMAIL),
    # Shopping and search sections that would otherwise read as their parent site.
    "shopping.google.com": ("google shopping", SHOPPING),
    "shopping.naver.com": ("naver", SHOPPING),
    "shopping.yahoo.com": ("yahoo", SHOPPING),
    "search.brave.com": ("brave", SEARCH),
    "com.google.android.googlequicksearchbox": ("google", SEARCH),
    # Google properties that are not search results.
    **{
        h: (h, None)
        for h in (
            "docs.google.com",
            "sites.google.com",
            "drive.google.com",
            "groups.google.com",
            "accounts.google.com",
            "play.google.com",
            "maps.google.com",
        )
    },
    # Short links and app ids of social and video sites.
    "x.com": ("x", SOCIAL),
    "t.co": ("x", SOCIAL),
    "com.twitter.android": ("x", SOCIAL),
    "fb.com": ("facebook", SOCIAL),
    "fb.me": ("facebook", SOCIAL),
    "com.facebook.katana": ("facebook", SOCIAL),
    "m.me": ("messenger", SOCIAL),
    "com.instagram.android": ("instagram", SOCIAL),
    "lnkd.in": ("linkedin", SOCIAL),
    "com.linkedin.android": ("linkedin", SOCIAL),
    "pin.it": ("pinterest", SOCIAL),
    "redd.it": ("reddit", SOCIAL),
    "com.reddit.frontpage": ("reddit", SOCIAL),
    "t.me": ("telegram", SOCIAL),
    "wa.me": ("whatsapp", SOCIAL),
    "bsky.app": ("bluesky", SOCIAL),
    "threads.net": ("threads", SOCIAL),
    "com.zhiliaoapp.musically": ("tiktok", SOCIAL),
    **{
        h: ("mastodon", SOCIAL)
        for h in (
            "mas.to",
            "mstdn.social",
            "fosstodon.org",
            "hachyderm.io",
            "infosec.exchange",
            "techhub.social",
            "universeodon.com",
            "mastodon.social",
            "mastodon.online",
        )
    },
    "youtu.be": ("youtube", VIDEO),
    "com.google.android.youtube": ("youtube", VIDEO),
    "fb.watch": ("facebook", VIDEO),
}

# Second-level labels of two-part public suffixes (google.co.uk, amazon.com.au, yahoo.co.jp).
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go"})

# Click id -> (source, medium, wins_over_utm). Google's own ids beat UTM tags, as GA4 auto-tagging
# does; other platforms' ids only fill in what UTM tags leave out. fbclid and igshid are added to
# organic links too, so they mean "came from Meta", not "paid".
_CLICK_IDS: dict[str, tuple[str, str, bool]] = {
    "gclid": ("google", "cpc", True),
    "gbraid": ("google", "cpc", True),
    "wbraid": ("google", "cpc", True),
    "dclid": ("dv360", "cpm", False),
    "msclkid": ("bing", "cpc", False),
    "ttclid": ("tiktok", "cpc", False),
    "li_fat_id": ("linkedin", "cpc", False),
    "twclid": ("x", "cpc", False),
    "epik": ("pinterest", "cpc", False),
    "sccid": ("snapchat", "cpc", False),
    "rdt_cid": ("reddit", "cpc", False),
    "yclid": ("yandex", "cpc", False),
    "fbclid": ("facebook", "referral", False),
    "igshid": ("instagram", "referral", False),
}
CLICK_ID_PARAMS = tuple(_CLICK_IDS)  # query keys (lower-case) that journeys reads from the landing URL
_PAID_CLICK_IDS = tuple(k for k, (_, medium, _) in _CLICK_IDS.items() if medium != "referral")


class Attribution(NamedTuple):
    channel: str  # one of CHANNEL_GROUPS
    source: str  # for display: utm_source as given, a site name ("google"), a host, or "(direct)"
    medium: str  # utm_medium as given, or the inferred one ("organic", "referral", "cpc", "(none)")


_HOST = re.compile(r"[\w.:-]{1,253}\Z")  # DNS names (IDN too), IPv4, bracket-less IPv6


def host_of(referrer: object) -> str | None:
    """Host of a referrer URL, origin or bare host, lower-cased and without "www."; else None."""
    if not isinstance(referrer, str):
        return None
    text = referrer.strip().lower()
    if not text:
        return None
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname
    except ValueError:  # e.g. a malformed IPv6 literal
        return None
    host = (host or "").rstrip(".")
    if not _HOST.match(host):  # forged referrers carry markup or spaces, which no host has
        return None
    return host[4:] if host.startswith("www.") else host


def site_of(source: object) -> tuple[str, str | None] | None:
    """(display name, category) of a known site or source word, else None; category None = plain site."""
    if not isinstance(source, str):
        return None
    word = source.strip().lower()
    if word in _SITES_BY_NAME:
        return _SITES_BY_NAME[word]
    host = host_of(word) if ("." in word or "://" in word) else None
    if not host:
        return None
    labels = host.split(".")
    for i in range(len(labels) - 1):
        hit = _SITES_BY_HOST.get(".".join(labels[i:]))
        if hit:
            return hit
    if labels[0] in ("mail", "webmail"):
        return host, WEBMAIL
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        name = labels[-3]
    else:
        name = labels[-2] if len(labels) >= 2 else labels[0]
    if "mastodon" in labels:
        name = "mastodon"
    return _SITES_BY_NAME.get(name)


def _text(value: object) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def classify(
    *,
    referrer_host: object = None,
    utm_source: object = None,
    utm_medium: object = None,
    utm_campaign: object = None,
    click_ids: Mapping[str, object] | None = None,
) -> Attribution:
    """Channel, display source and medium of a visit from its referrer, UTM tags and click ids."""
    source, medium, campaign = _text(utm_source), _text(utm_medium), _text(utm_campaign) or ""
    referrer = host_of(referrer_host)
    present = (
        {k.lower() for k, v in (click_ids or {}).items() if isinstance(k, str) and v not in (None, "", False)}
        if isinstance(click_ids, Mapping)
        else set()
    )
    google_id = next((k for k in ("gclid", "gbraid", "wbraid") if k in present), None)
    paid_id = next((k for k in _PAID_CLICK_IDS if k in present), None)

    category = None
    if google_id:
        source, medium = "google", "cpc"
    elif source or medium:
        if paid_id and not medium:
            medium = _CLICK_IDS[paid_id][1]
        site = site_of(source) if source else site_of(_CLICK_IDS[paid_id][0] if paid_id else referrer)
        category = site[1] if site else None
        source = source or (_CLICK_IDS[paid_id][0] if paid_id else None) or _site_name(site, referrer)
        medium = medium or "(not set)"
    elif paid_id:
        source, medium = _CLICK_IDS[paid_id][:2]
    elif referrer:
        site = site_of(referrer)
        category = site[1] if site else None
        source = _site_name(site, referrer)
        medium = {SEARCH: "organic", WEBMAIL: "email"}.get(category or "", "referral")
    elif "fbclid" in present or "igshid" in present:
        source, medium = _CLICK_IDS["fbclid" if "fbclid" in present else "igshid"][:2]
    else:
        return Attribution(DIRECT, "(direct)", "(none)")
    if category is None and (site := site_of(source)):
        category = site[1]  # click-id platforms ("google", "tiktok") are known source names
    return Attribution(_channel(source, medium, campaign, category), source, medium)


def _site_name(site: tuple[str, str | None] | None, host: str | None) -> str:
    return site[0] if site else host or "(not set)"


def _channel(source: str, medium: str, campaign: str, category: str | None) -> str:
    """GA4's rule table in Google's order; `category` is the source's site category, if known."""
    src, med, camp = source.lower(), medium.lower(), campaign.lower()
    paid = bool(_PAID_MEDIUM.match(med))
    shopping_campaign = bool(_SHOPPING_CAMPAIGN.match(camp))
    if src == "(direct)" and med in ("(not set)", "(none)"):
        return DIRECT
    if "cross-network" in camp:
        return CROSS_NETWORK
    if paid:
        if category == SHOPPING or shopping_campaign:
            return PAID_SHOPPING
        paid_by_category = {SEARCH: PAID_SEARCH, SOCIAL: PAID_SOCIAL, VIDEO: PAID_VIDEO}
        if category in paid_by_category:
            return paid_by_category[category]
    if med in _DISPLAY_MEDIA:
        return DISPLAY
    if paid:
        return PAID_OTHER
    if category == AI:
        return AI_ASSISTANTS
    if category == SHOPPING or shopping_campaign:
        return ORGANIC_SHOPPING
    if category == SOCIAL or med in _SOCIAL_MEDIA:
        return ORGANIC_SOCIAL
    if category == VIDEO or _VIDEO_MEDIUM.match(med):
        return ORGANIC_VIDEO
    if category == SEARCH or med == "organic":
        return ORGANIC_SEARCH
    if med in _REFERRAL_MEDIA:
        return REFERRAL
    if src in _EMAIL_WORDS or med in _EMAIL_WORDS or category == WEBMAIL:
        return EMAIL
    if med == "affiliate":
        return AFFILIATES
    if med == "audio":
        return AUDIO
    if src == "sms" or med == "sms":
        return SMS
    if med.endswith("push") or "mobile" in med or "notification" in med or src == "firebase":
        return MOBILE_PUSH
    return UNASSIGNED
