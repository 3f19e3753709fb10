"""Rebuilding the projections: from the ledger's journal (set-based, fastest) or from the topics at offset zero.

- `rebuild_from_journal`: binary COPY of the journal, in chunks of journal sequence numbers, straight into
  rp_entries (its indexes are dropped for the load and made again at the end); the ledger's outcome log
  into rp_outcomes; the domain topics (the dimensions, which are not in the journal) through the
  projection consumer; then the rejections, derived from the outcome log and the events they refused.
- `rebuild_from_topics`: every projection from ledger.entries.v1 and the domain topics, from offset zero.

Both checkpoint in rp_rebuilds (the journal chunk reached; the topic offsets are the consumer's own,
stored with the rows), so `resume=True` carries on after a crash or Ctrl-C instead of starting again.
Stop the projection worker while a rebuild runs: the rebuild owns the worker's consumer group meanwhile.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import asyncpg

from ..adapters.journal_copy import connect_read_only, copy_entries, copy_outcomes
from ..config import Settings
from .catchup import consume_until_caught_up, forget_offsets
from .progress import ProgressBar, Silent
from .project import ProjectionHandler

ENTRY_INDEXES = {
    "rp_entries_position": "CREATE UNIQUE INDEX IF NOT EXISTS rp_entries_position ON rp_entries (shard, shard_seq)",
}
PROJECTIONS = ("rp_entries", "rp_rejections", "rp_domain_events", "rp_outcomes")

DERIVE_REJECTIONS = """
INSERT INTO rp_rejections (rejection_id, council_id, cause_event_id, cause_type, shard, reason_code, detail,
                           effective_date, recorded_at)
SELECT 'R' || encode(sha256(convert_to(o.event_id || '|' || o.content_hash, 'UTF8')), 'hex'), o.council_id,
       o.event_id, o.event_type, o.shard, coalesce(o.reason_code, ''), coalesce(o.detail, ''), d.effective_date,
       d.recorded_at
  FROM rp_outcomes o JOIN rp_domain_events d USING (event_id, content_hash)
 WHERE o.outcome = 'rejected'
ON CONFLICT DO NOTHING"""


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


async def _state(conn: asyncpg.Connection, source: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM rp_rebuilds WHERE source = $1", source)


async def _start(conn: asyncpg.Connection, source: str, target: int, tables: tuple[str, ...]) -> None:
    async with conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(tables)}")
        await conn.execute("DELETE FROM rp_rebuilds WHERE source = $1", source)
        await conn.execute("INSERT INTO rp_rebuilds (source, target) VALUES ($1, $2)", source, target)


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


async def copy_journal(settings: Settings, pool: asyncpg.Pool, result: RebuildResult, resume: bool = False,
                       progress: bool = True, chunk: int | None = None) -> None:
    """The set-based part of a journal rebuild: journal entries (checkpointed chunks) and the outcome log."""
    chunk = chunk or settings.rebuild_chunk
    ledger = await connect_read_only(settings.ledger_database_url)
    try:
        async with pool.acquire() as conn:
            state = await _state(conn, "journal")
            if not (resume and state is not None and state["finished_at"] is None):
                target = await ledger.fetchval("SELECT coalesce(max(seq), 0) FROM journal_entries")
                await _start(conn, "journal", target, PROJECTIONS)
                await forget_offsets(conn, settings.group_id, settings.domain_topics)
                for name in ENTRY_INDEXES:  # loading without indexes, then indexing once, is much faster
                    await conn.execute(f"DROP INDEX IF EXISTS {name}")
                state = await _state(conn, "journal")
            target, done = state["target"], state["done_upto"]
            first_seq = await ledger.fetchval("SELECT coalesce(min(seq), 1) - 1 FROM journal_entries")
            bar = (ProgressBar if progress else Silent)("journal", target - first_seq)
            done = max(done, first_seq)
            while done < target:
                upto = min(done + chunk, target)
                async with conn.transaction():
                    result.entries += await copy_entries(ledger, conn, done, upto)
                    await conn.execute("UPDATE rp_rebuilds SET done_upto = $2 WHERE source = $1", "journal", upto)
                done = upto
                bar.update(done - first_seq)
            result.seconds["entries"] = bar.finish()
            bar = (ProgressBar if progress else Silent)("indexes", 1)
            await build_entry_indexes(pool)
            await conn.execute("ANALYZE rp_entries")
            bar.update(1)
            result.seconds["indexes"] = bar.finish()
            async with conn.transaction():
                await conn.execute("TRUNCATE rp_outcomes")
                result.outcomes = await copy_outcomes(ledger, conn)
    finally:
        await ledger.close()


async def rebuild_from_journal(settings: Settings, pool: asyncpg.Pool, resume: bool = False,
                               progress: bool = True, chunk: int | None = None) -> RebuildResult:
    result = RebuildResult("journal")
    await copy_journal(settings, pool, result, resume, progress, chunk)
    handler = ProjectionHandler(settings.entries_topic)
    result.domain_events = await consume_until_caught_up(
        settings.kafka_bootstrap, settings.group_id, settings.domain_topics, pool, handler, "domain topics",
        progress, max_records=settings.max_records)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("TRUNCATE rp_rejections")
            status = await conn.execute(DERIVE_REJECTIONS)
            result.rejections = int(status.split()[-1])
            undated = await conn.fetchval(
                "SELECT count(*) FROM rp_outcomes o WHERE outcome = 'rejected' AND NOT EXISTS "
                "(SELECT 1 FROM rp_domain_events d WHERE d.event_id = o.event_id AND d.content_hash = o.content_hash)")
            if undated:
                result.notes.append(f"{undated} rejections name an event not (yet) on the domain topics; not dated")
            await conn.execute("UPDATE rp_rebuilds SET finished_at = now(), detail = $2 WHERE source = $1",
                               "journal", json.dumps({"entries": result.entries, "outcomes": result.outcomes}))
    return result


async def rebuild_from_topics(settings: Settings, pool: asyncpg.Pool, resume: bool = False,
                              progress: bool = True) -> RebuildResult:
    result = RebuildResult("topics")
    async with pool.acquire() as conn:
        state = await _state(conn, "topics")
        if not (resume and state is not None and state["finished_at"] is None):
            await _start(conn, "topics", 0, PROJECTIONS)
            await forget_offsets(conn, settings.group_id, settings.topics)
        await ensure_entry_indexes(conn)
    handler = ProjectionHandler(settings.entries_topic)
    started = time.perf_counter()
    await consume_until_caught_up(settings.kafka_bootstrap, settings.group_id, settings.topics, pool, handler,
                                  "topics", progress, max_records=settings.max_records)
    result.seconds["entries"] = time.perf_counter() - started
    async with pool.acquire() as conn:
        counts = await conn.fetchrow("SELECT (SELECT count(*) FROM rp_entries) AS e, "
                                     "(SELECT count(*) FROM rp_rejections) AS r, "
                                     "(SELECT count(*) FROM rp_domain_events) AS d")
        result.entries, result.rejections, result.domain_events = counts["e"], counts["r"], counts["d"]
        await conn.execute("UPDATE rp_rebuilds SET finished_at = now(), done_upto = $1 WHERE source = 'topics'",
                           result.entries)
    return result
