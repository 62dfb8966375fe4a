"""Forward-only migrations: `migrations/NAME.sql`, or a `NAME.postgres.sql` / `NAME.sqlite.sql` twin
only where the dialects truly differ. Applied names are recorded in `leadtrail_migrations`."""

from __future__ import annotations

from pathlib import Path

MIGRATION_DIR = Path(__file__).parent / "migrations"
DIALECTS = ("postgres", "sqlite")
CREATE_TABLE = (
    "create table if not exists leadtrail_migrations (name text primary key, applied_at {timestamp} not null)"
)


def migration_names() -> list[str]:
    names = set()
    for path in MIGRATION_DIR.glob("*.sql"):
        stem = path.name[: -len(".sql")]
        for dialect in DIALECTS:
            stem = stem.removesuffix("." + dialect)
        names.add(stem)
    return sorted(names)


def migration_sql(name: str, dialect: str) -> str:
    own = MIGRATION_DIR / f"{name}.{dialect}.sql"
    if own.exists():
        return own.read_text()
    shared = MIGRATION_DIR / f"{name}.sql"
    if not shared.exists():
        raise FileNotFoundError(f"migration {name} has no file for {dialect}")
    return shared.read_text()


def pending(applied: set[str]) -> list[str]:
    return [name for name in migration_names() if name not in applied]
