"""Pure: is_bot(user_agent), from the maintained crawler-user-agents list, cached per UA string.

Bots get 204 and nothing stored (docs/security.md). The list has ~1,500 patterns; one regex
alternation of them all costs about a millisecond per user agent in Python's backtracking engine.
Nearly all patterns are literals (or small finite sets such as "[wW]get"), so those are merged
into a character trie, which the engine walks one character at a time: the whole check then costs
tens of microseconds for an uncached browser UA, and the LRU cache makes repeat visitors free.
Patterns the expander does not understand stay as ordinary regex alternatives, so the result is
always exactly the list's own (case-sensitive) verdict.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

MAX_USER_AGENT = 1024  # real browsers send ~100-300 characters; longer is a script or an attack
_MAX_EXPANSION = 64
_META = frozenset(".^$*+?{}[]|()")


def _expand(pattern: str) -> list[str] | None:
    """The finite set of strings `pattern` matches, or None if it is not a simple finite pattern.

    Understands literals, backslash-escaped punctuation, character sets like "[wW]" (no ranges,
    no negation) and groups of alternatives "(Bot|SiteAudit)", nested or at top level.
    """
    pos = 0

    def alternation() -> list[str] | None:
        nonlocal pos
        options = sequence()
        while options is not None and pos < len(pattern) and pattern[pos] == "|":
            pos += 1
            more = sequence()
            options = None if more is None else options + more
        return options

    def sequence() -> list[str] | None:
        nonlocal pos
        words = [""]
        while pos < len(pattern) and pattern[pos] not in "|)":
            c = pattern[pos]
            if c == "\\":
                if pos + 1 >= len(pattern) or pattern[pos + 1].isalnum():
                    return None  # \d, \s, \b ... are classes or anchors, not literals
                choices, pos = [pattern[pos + 1]], pos + 2
            elif c == "[":
                end = pattern.find("]", pos + 1)
                body = pattern[pos + 1 : end]
                if end < 0 or not body or any(ch in _META or ch in "\\-^" for ch in body):
                    return None
                choices, pos = list(body), end + 1
            elif c == "(":
                pos += 1
                group = alternation()
                if group is None or pos >= len(pattern) or pattern[pos] != ")":
                    return None
                choices, pos = group, pos + 1
            elif c in _META:
                return None
            else:
                choices, pos = [c], pos + 1
            if pos < len(pattern) and pattern[pos] in "*+?{":
                return None
            words = [w + ch for w in words for ch in choices]
            if len(words) > _MAX_EXPANSION:
                return None
        return words

    words = alternation()
    if words is None or pos != len(pattern) or not all(words):
        return None
    return words


def _trie(words: list[str]) -> str:
    """A regex matching any of `words` as a substring, built as a trie of alternatives."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # end of a word

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter word already matches here; longer ones add nothing to search()
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


def _compile(patterns: list[str]) -> re.Pattern[str]:
    anywhere: list[str] = []
    at_start: list[str] = []
    other: list[str] = []
    for pattern in patterns:
        anchored = pattern.startswith("^")
        # "^a|b" anchors only its first alternative; leave such patterns to the regex engine.
        words = None if anchored and "|" in pattern else _expand(pattern[1:] if anchored else pattern)
        if words is None:
            other.append(f"(?:{pattern})")
        else:
            (at_start if anchored else anywhere).extend(words)
    parts = []
    if anywhere:
        parts.append(_trie(anywhere))
    if at_start:
        parts.append("^" + _trie(at_start))
    return re.compile("|".join(parts + other))


_BOT = _compile([entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA])


@functools.lru_cache(maxsize=4096)
def _matches(user_agent: str) -> bool:
    return _BOT.search(user_agent) is not None


def is_bot(user_agent: str | None) -> bool:
    """True for known crawlers, scripts and headless browsers, and for a missing or blank UA."""
    if not user_agent or len(user_agent) > MAX_USER_AGENT or user_agent.isspace():
        return True
    return _matches(user_agent)
