"""Server-rendered SVG for the dashboard: the journey as a picture, and the insights charts.

- text.py: pure formatting (durations, channel colours, truncation) and `Format`, the templates' `fmt`
- journey.py: pure geometry of the journey timeline (a segment per visit); strip.py: the strip
- figures.py: pure geometry of the insights charts
- draw.py: the geometry through the SVG templates in templates/cp/charts/
"""

from .draw import bar_list, histogram, journey_picture, journey_strip, responsive, stacked_bars, visits_and_enquiries
from .journey import QUIET_EVENTS
from .text import Format, channel_class, count, duration, number, percent, truncate

__all__ = [
    "QUIET_EVENTS",
    "Format",
    "bar_list",
    "channel_class",
    "count",
    "duration",
    "histogram",
    "journey_picture",
    "journey_strip",
    "number",
    "percent",
    "responsive",
    "stacked_bars",
    "truncate",
    "visits_and_enquiries",
]
