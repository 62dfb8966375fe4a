"""The enquiry list's and the insights' filters from the query string: a search, a date range in
the owner's days (TIMEZONE), the spam list; what could not be read is said, not guessed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from starlette.requests import Request

from ..contract import DAY_MAX, DAY_MIN
from ..lifecycle import visible_journeys_since
from ..localtime import day_end, day_start, local_date
from ..store import utcnow
from ..store.dashboard import FAR_FUTURE, ListFilter
from .cookies import services_of

FIRST_DAY, LAST_DAY = date.fromisoformat(DAY_MIN), date.fromisoformat(DAY_MAX)


def parse_day(raw: str | None) -> date | None:
    """A day from YYYY-MM-DD (anything after the tenth character ignored), None when it is none.
    A day outside the span of accepted client times (contract.DAY_MIN..DAY_MAX) is taken as that
    span's end: no journey is outside it, and a far year (0001, 9999) overflows the local-day
    arithmetic of the filters and the insights (their UTC instants, the days of a chart)."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None
    return min(max(day, FIRST_DAY), LAST_DAY)


@dataclass(frozen=True)
class Filters:
    q: str
    start: date | None
    end: date | None
    list_filter: ListFilter  # the same as UTC instants, for the store
    problems: tuple[str, ...]  # what could not be read, said on the page

    @property
    def spam(self) -> bool:
        return self.list_filter.spam

    def query(self, **extra: str | None) -> str:
        """The query string of these filters plus `extra` (None values dropped)."""
        params = {
            "list": "spam" if self.spam else None,
            "q": self.q or None,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            **extra,
        }
        return urlencode({k: v for k, v in params.items() if v})


def filters_from(request: Request, default_days: int | None = None, max_days: int | None = None) -> Filters:
    """The filters of the query; `default_days`: a range of that many days to today when no start
    is given; `max_days`: a longer range starts that many days before its end (said on the page)."""
    settings = services_of(request).settings
    params = request.query_params
    problems = []
    # No stored address holds a NUL (and PostgreSQL cannot take one in a pattern): dropped.
    q = " ".join(params.get("q", "").replace("\x00", "").split())[:254].lower()
    start, end = parse_day(params.get("from")), parse_day(params.get("to"))
    if params.get("from") and start is None:
        problems.append("The start date was not a date; it is ignored.")
    if params.get("to") and end is None:
        problems.append("The end date was not a date; it is ignored.")
    if start and end and end < start:
        start, end = end, start
    # Days are the owner's (TIMEZONE): from local midnight to local midnight, as UTC instants.
    tz, now = settings.tz, utcnow()
    if start is None and default_days is not None:  # an unreadable start date means the default range
        start = local_date(now, tz) - timedelta(days=default_days - 1)
    last_day = min(end, local_date(now, tz)) if end else local_date(now, tz)
    if max_days is not None and start is not None and (last_day - start).days >= max_days:
        start = last_day - timedelta(days=max_days - 1)
        problems.append(f"A range is at most {max_days:,} days; this one starts on {start.isoformat()}.")
    floor = visible_journeys_since(settings, now)
    since = max(day_start(start, tz), floor) if start else floor
    until = min(day_end(end, tz), FAR_FUTURE) if end else FAR_FUTURE
    spam = params.get("list") == "spam"
    return Filters(q, start, end, ListFilter(since, until, q or None, spam), tuple(problems))


def presets(today: date) -> list[tuple[str, str]]:
    """The quick ranges of the insights page: (label, query string)."""

    def q(days: int) -> str:
        return urlencode({"from": (today - timedelta(days=days - 1)).isoformat()})

    return [("7 days", q(7)), ("30 days", q(30)), ("90 days", q(90)), ("12 months", q(365))]
