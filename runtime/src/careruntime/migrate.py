"""Database schema migrations for every service, applied with yoyo-migrations over psycopg 3.

Owns `migrate`: create the service's database when it is missing, then apply the pending yoyo
migrations (both `.sql` and `.py` files) from the service's `migrations/` folder under yoyo's lock,
so concurrent starters do not race. Applying twice is a no-op: yoyo records each applied migration.

CLI:
    python -m careruntime.migrate --dsn postgresql://careledger@127.0.0.1:55432/ledger \
        --dir services/ledger/migrations [--no-create-db]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

_YOYO_SCHEME = "postgresql+psycopg"
_LIBPQ_SCHEMES = {"postgresql", "postgres", _YOYO_SCHEME}


def _split(dsn: str):
    parts = urlsplit(dsn)
    if parts.scheme not in _LIBPQ_SCHEMES:
        raise ValueError(f"expected a postgresql:// URL, got {parts.scheme or 'no'} scheme")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ValueError(f"the DSN names no database: {dsn}")
    return parts, dbname


def yoyo_url(dsn: str) -> str:
    """The same DSN with the scheme yoyo uses for psycopg 3."""
    parts, _ = _split(dsn)
    return urlunsplit(parts._replace(scheme=_YOYO_SCHEME))


def _libpq_url(dsn: str, dbname: str | None = None) -> str:
    parts, own = _split(dsn)
    return urlunsplit(parts._replace(scheme="postgresql", path="/" + (dbname or own)))


def create_database(dsn: str, maintenance_db: str = "postgres") -> bool:
    """Create the database that `dsn` names, if missing. True when this call created it."""
    import psycopg
    from psycopg import errors, sql

    _, dbname = _split(dsn)
    with psycopg.connect(_libpq_url(dsn, maintenance_db), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except errors.DuplicateDatabase:  # another process created it between check and create
            return False
    log.info("created database %s", dbname)
    return True


def migrate(dsn: str, migrations_dir: str | Path, create_db: bool = True) -> list[str]:
    """Apply the pending migrations in `migrations_dir` to `dsn`; return the ids applied now."""
    from yoyo import get_backend, read_migrations

    folder = Path(migrations_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"no migrations folder at {folder}")
    if create_db:
        create_database(dsn)
    migrations = read_migrations(str(folder))
    with get_backend(yoyo_url(dsn)) as backend:  # the context closes the connection
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    if applied:
        log.info("applied %d migrations from %s: %s", len(applied), folder, ", ".join(applied))
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m careruntime.migrate")
    parser.add_argument("--dsn", required=True, help="postgresql://user@host:port/dbname")
    parser.add_argument("--dir", required=True, help="folder of yoyo migrations (.sql and .py)")
    parser.add_argument(
        "--no-create-db", action="store_true", help="fail instead of creating a missing database"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    applied = migrate(args.dsn, args.dir, create_db=not args.no_create_db)
    print(f"migrate: {len(applied)} applied" + (f": {', '.join(applied)}" if applied else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
