"""The projection store: idempotent, set-based writes of projection rows inside the caller's transaction.

Rows are COPYed into a temporary table and inserted with ON CONFLICT DO NOTHING, so a batch seen twice
(a redelivery, a rebuild over a live projection) adds nothing the second time.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from .wire import DOMAIN_COLUMNS, ENTRY_COLUMNS, REJECTION_COLUMNS

TABLES: dict[str, tuple[str, ...]] = {
    "rp_entries": ENTRY_COLUMNS,
    "rp_rejections": REJECTION_COLUMNS,
    "rp_domain_events": DOMAIN_COLUMNS,
}


async def insert_new(conn: asyncpg.Connection, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert the rows that are not there yet; returns how many were new."""
    if not rows:
        return 0
    columns = TABLES[table]
    staging = f"_stage_{table}"
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS")
    await conn.copy_records_to_table(staging, records=rows, columns=list(columns))
    quoted = ", ".join(f'"{c}"' for c in columns)
    status = await conn.execute(
        f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {staging} ON CONFLICT DO NOTHING")
    await conn.execute(f"TRUNCATE {staging}")
    return int(status.rsplit(" ", 1)[1])
