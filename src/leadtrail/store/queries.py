"""Named SQL files turned into statements for each dialect.

`queries/NAME.sql` holds a query written once with `:named` parameters; `NAME.postgres.sql` or
`NAME.sqlite.sql` exists only where the SQL truly differs. sqlite3 takes `:named` as it is; for
asyncpg the names become `$1, $2, ...` in order of first appearance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

QUERY_DIR = Path(__file__).parent / "queries"
# A parameter is a colon and a name, but not the second colon of a `::type` cast.
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    params: tuple[str, ...]  # asyncpg positional order; empty for sqlite


@cache
def load_query(name: str, dialect: str) -> Query:
    path = QUERY_DIR / f"{name}.{dialect}.sql"
    if not path.exists():
        path = QUERY_DIR / f"{name}.sql"
    sql = path.read_text()
    if dialect != "postgres":
        return Query(name, sql, ())
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        param = match.group(1)
        if param not in order:
            order.append(param)
        return f"${order.index(param) + 1}"

    return Query(name, _PARAM.sub(number, sql), tuple(order))
