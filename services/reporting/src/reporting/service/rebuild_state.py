"""Bookkeeping every rebuild shares: which tables a rebuild empties, the rebuild's checkpoint row in
rp_rebuilds, its result, and the entry indexes that are dropped for a bulk load and built again after it."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import asyncpg

ENTRY_INDEXES = {
    "rp_entries_position": "CREATE UNIQUE INDEX IF NOT EXISTS rp_entries_position ON rp_entries (shard, shard_seq)",
}
PROJECTIONS = ("rp_entries", "rp_rejections", "rp_domain_events", "rp_outcomes")


@dataclass
class RebuildResult:
    source: str
    entries: int = 0
    rejections: int = 0
    domain_events: int = 0
    outcomes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def entries_per_second(self) -> float:
        s = self.seconds.get("entries", 0.0)
        return self.entries / s if s else 0.0


async def load_state(conn: asyncpg.Connection, source: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM rp_rebuilds WHERE source = $1", source)


async def start_rebuild(conn: asyncpg.Connection, source: str, target: int, tables: tuple[str, ...],
                        detail: dict | None = None) -> None:
    async with conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(tables)}")
        await conn.execute("DELETE FROM rp_rebuilds WHERE source = $1", source)
        await conn.execute("DELETE FROM rp_rebuild_ranges WHERE source = $1", source)
        await conn.execute("INSERT INTO rp_rebuilds (source, target, detail) VALUES ($1, $2, $3)", source, target,
                           json.dumps(detail or {}))


async def ensure_entry_indexes(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")  # sort millions of keys in memory
        for ddl in ENTRY_INDEXES.values():
            await conn.execute(ddl)


async def build_entry_indexes(pool: asyncpg.Pool) -> None:
    """Each index on its own connection, at the same time (one sort per core)."""
    async def one(ddl: str) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            await conn.execute(ddl)

    await asyncio.gather(*(one(ddl) for ddl in ENTRY_INDEXES.values()))
