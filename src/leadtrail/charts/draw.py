"""Drawing: the geometry of journey.py and figures.py through the SVG templates in
templates/cp/charts/ (Jinja2, autoescape on: every text a browser sent is escaped).

The templates emit no script, event handler, link or style attribute, so a chart is inert under
the dashboard's CSP; colours come from CSS classes (`ch-*` per channel), geometry from SVG
presentation attributes. Whitespace between tags is dropped from the output (it means nothing in
these SVGs, and a 240-row journey would carry kilobytes of indentation).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import jinja2
from markupsafe import Markup

from ..localtime import UTC_TIMES, LocalTimes
from ..templating import TEMPLATE_DIR
from . import figures, journey, strip

_BETWEEN_TAGS = re.compile(r">\s+<")


def svg_number(value: object) -> str:
    """A coordinate as an attribute: floats to one decimal without trailing zeros ("12.5", "12")."""
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["n"] = svg_number
    return env


def render(template: str, **context: object) -> Markup:
    """One chart template (a name under templates/cp/charts/) as SVG markup."""
    text = _environment().get_template(f"cp/charts/{template}").render(**context)
    return Markup(_BETWEEN_TAGS.sub("><", text.strip()))


def journey_picture(
    journey_doc: dict,
    chart_id: str = "journey-picture",
    max_rows: int = 240,
    compact: bool = False,
    times: LocalTimes = UTC_TIMES,
) -> Markup:
    """The vertical timeline of one journey (an export.export_journey() result). `compact` lays
    it out for a phone's width (the page shows one or the other by CSS). Times are written in
    the zone of `times`."""
    timeline = journey.timeline(journey_doc, chart_id, max_rows, compact, times)
    return render("journey_picture.svg", t=timeline, badge_tip=journey.BADGE_TIP)


def journey_strip(
    journey_doc: dict, chart_id: str = "journey-strip", compact: bool = False, times: LocalTimes = UTC_TIMES
) -> Markup:
    """A one-line overview: each visit placed in real time between first visit and enquiry."""
    return render("journey_strip.svg", s=strip.strip(journey_doc, chart_id, compact, times))


def _css(base: str, width: int) -> str:
    return base + (" compact" if width < figures.NARROW else "")


def stacked_bars(
    chart_id: str,
    label: str,
    buckets: Sequence[tuple[str, str, dict[str, int]]],
    series: Sequence[str],
    width: int = 1100,
    height: int = 280,
) -> Markup:
    """figures.stacked_bars, drawn."""
    chart = figures.stacked_bars(buckets, series, width, height)
    return render("stacked_bars.svg", id=chart_id, label=label, css=_css("stacked-bars", width), c=chart)


def bar_list(
    chart_id: str,
    label: str,
    items: Sequence[tuple[str, float, str]],
    css: str = "bar-fill",
    label_width: int = 260,
    width: int = 540,
    value_width: int = 120,
) -> Markup:
    """figures.bar_list, drawn; `css` is the bars' class."""
    chart = figures.bar_list(items, label_width, width, value_width)
    return render("bar_list.svg", id=chart_id, label=label, css=_css("bar-list", width), fill=css, c=chart)


def histogram(
    chart_id: str, label: str, buckets: Sequence[tuple[str, int]], css: str = "bar-fill", width: int = 540
) -> Markup:
    """figures.histogram, drawn; `css` is the bars' class."""
    chart = figures.histogram(buckets, width)
    return render("histogram.svg", id=chart_id, label=label, css=_css("histogram", width), fill=css, c=chart)


def visits_and_enquiries(
    chart_id: str, label: str, days: Sequence[tuple[str, str, int, int]], width: int = 1100, height: int = 260
) -> Markup:
    """figures.visits_and_enquiries, drawn."""
    chart = figures.visits_and_enquiries(days, width, height)
    return render("visits_enquiries.svg", id=chart_id, label=label, css=_css("visits-enquiries", width), c=chart)


def responsive(wide: Markup, narrow: Markup) -> Markup:
    """Both layouts of a chart; the CSS shows the wide one on wide screens, the other on phones."""
    return render("responsive.svg", wide=wide, narrow=narrow)
