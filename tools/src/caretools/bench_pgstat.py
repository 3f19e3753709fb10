"""Where PostgreSQL's time goes in a benchmark run: pg_stat_statements for the run's own database.

The local stack preloads `pg_stat_statements` (deploy/local/stack.sh). `reset(conn)` installs the
extension in the connection's database if needed and zeroes its counters, just before the measured
window; `top(conn, events)` then reads the statements of that database by execution time, as
microseconds per input event. On a server without the library preloaded both say so (False, []) and
the benchmark prints nothing for it: the figures are a diagnosis, never part of a verdict.

The reset is server-wide (PostgreSQL offers no other): run benchmarks on a stack of their own.
"""
from __future__ import annotations

import re

LIMIT = 6

_TOP = """
SELECT calls, total_exec_time, rows, wal_bytes, query
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY total_exec_time DESC
 LIMIT $1
"""


async def reset(conn) -> bool:
    """Zero the counters (installing the extension in this database first); False if not preloaded."""
    loaded = await conn.fetchval("SELECT current_setting('shared_preload_libraries')")
    if "pg_stat_statements" not in {name.strip() for name in (loaded or "").split(",")}:
        return False
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    await conn.execute("SELECT pg_stat_statements_reset()")
    return True


async def top(conn, events: int, limit: int = LIMIT) -> list[dict]:
    """The statements of this database that took longest since `reset`, per input event."""
    rows = await conn.fetch(_TOP, limit)
    return [{"statement": label(r["query"]), "calls": r["calls"], "rows": r["rows"],
             "exec_us_per_event": round(1000 * r["total_exec_time"] / events, 2) if events else None,
             "wal_bytes_per_event": round(int(r["wal_bytes"]) / events) if events else None} for r in rows]


_COPY = re.compile(r'^\s*COPY\s+"?([\w.]+)"?', re.IGNORECASE)
_INSERT = re.compile(r'^\s*INSERT\s+INTO\s+"?([\w.]+)"?', re.IGNORECASE)
_UPDATE = re.compile(r'^\s*UPDATE\s+"?([\w.]+)"?', re.IGNORECASE)
_FROM = re.compile(r'\bFROM\s+"?([\w.]+)"?', re.IGNORECASE)


def label(query: str) -> str:
    """A short name for a normalised statement: its verb and the table it is about."""
    if m := _COPY.match(query):
        return f"COPY {m.group(1)}"
    if m := _INSERT.match(query):
        upsert = re.search(r"\bON\s+CONFLICT\b[^;]*\bDO\s+UPDATE\b", query, re.IGNORECASE)
        return f"{'upsert' if upsert else 'INSERT'} {m.group(1)}"
    if m := _UPDATE.match(query):
        return f"UPDATE {m.group(1)}"
    tables = [t for t in _FROM.findall(query) if t.lower() not in {"unnest", "jsonb_array_elements"}]
    verb = query.split(None, 1)[0].upper() if query.strip() else "?"
    return f"{verb} {tables[0]}" if tables else " ".join(query.split())[:40]
