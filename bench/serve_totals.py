"""`leadtrail serve` with the daily totals' periodic roll-up on or off (bench_totals.py).

Usage: python bench/serve_totals.py on|off serve --database-url ...  (the rest as `leadtrail`)
"""

from __future__ import annotations

import sys

from leadtrail import cli, totals

if __name__ == "__main__":
    mode = sys.argv.pop(1)
    if mode == "off":
        totals.Totals.start_periodic = lambda self: None  # type: ignore[method-assign]
    cli.main()
