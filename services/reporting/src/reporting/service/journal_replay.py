"""The set-based part of a rebuild from the journal: journal entries copied in ranges of sequence numbers by
parallel COPY streams (each range committed with its checkpoint row in rp_rebuild_ranges), the entry
indexes built once at the end, then the ledger's outcome log.

Ranges, not one position, are the checkpoint because two streams finish out of order; a resumed rebuild
re-plans the same ranges (the chunk size is kept with the rebuild) and copies only those not yet listed.
"""
from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg

from ..adapters.journal_copy import connect_read_only, copy_entries, copy_outcomes
from ..config import Settings
from .catchup import forget_offsets
from .progress import ProgressBar, Silent
from .rebuild_state import ENTRY_INDEXES, PROJECTIONS, RebuildResult, build_entry_indexes, load_state, start_rebuild

SOURCE = "journal"


def plan_ranges(first_seq: int, target: int, chunk: int) -> list[tuple[int, int]]:
    """(after, upto] ranges of journal sequence numbers covering first_seq+1 .. target."""
    return [(lo, min(lo + chunk, target)) for lo in range(first_seq, target, chunk)]


async def _start(settings: Settings, ledger: asyncpg.Connection, conn: asyncpg.Connection, chunk: int,
                 until: datetime | None) -> None:
    target = await ledger.fetchval("SELECT coalesce(max(seq), 0) FROM journal_entries")
    first = await ledger.fetchval("SELECT coalesce(min(seq), 1) - 1 FROM journal_entries")
    await start_rebuild(conn, SOURCE, target, PROJECTIONS, {"chunk": chunk, "first_seq": first,
                                                             "until": until.isoformat() if until else None})
    await forget_offsets(conn, settings.group_id, settings.domain_topics)
    for name in ENTRY_INDEXES:  # loading without indexes, then indexing once, is much faster
        await conn.execute(f"DROP INDEX IF EXISTS {name}")


async def copy_journal(settings: Settings, pool: asyncpg.Pool, result: RebuildResult, resume: bool = False,
                       progress: bool = True, chunk: int | None = None, streams: int | None = None,
                       until: datetime | None = None) -> datetime | None:
    """Copy the journal (only entries recorded by `until`, if given); returns the `until` in force, which a
    resumed rebuild takes from the interrupted one."""
    chunk, streams = chunk or settings.rebuild_chunk, streams or settings.rebuild_streams
    ledger = await connect_read_only(settings.ledger_database_url)
    try:
        async with pool.acquire() as conn:
            state = await load_state(conn, SOURCE)
            if not (resume and state is not None and state["finished_at"] is None):
                await _start(settings, ledger, conn, chunk, until)
                state = await load_state(conn, SOURCE)
            detail = _detail(state)
            until = datetime.fromisoformat(detail["until"]) if detail.get("until") else None
            ranges = plan_ranges(detail["first_seq"], state["target"], detail["chunk"])
            done = {r["from_seq"] for r in await conn.fetch(
                "SELECT from_seq FROM rp_rebuild_ranges WHERE source = $1", SOURCE)}
        todo = [r for r in ranges if r[0] not in done]
        bar = (ProgressBar if progress else Silent)("journal", state["target"] - detail["first_seq"])
        bar.update(sum(hi - lo for lo, hi in ranges if lo in done))
        await _copy_ranges(settings, pool, todo, result, bar, streams, ledger, until)
        result.seconds["entries"] = bar.finish()
        bar = (ProgressBar if progress else Silent)("indexes", 1)
        await build_entry_indexes(pool)
        async with pool.acquire() as conn:
            await conn.execute("ANALYZE rp_entries")
            bar.update(1)
            result.seconds["indexes"] = bar.finish()
            async with conn.transaction():
                await conn.execute("TRUNCATE rp_outcomes")
                result.outcomes = await copy_outcomes(ledger, conn)
    finally:
        await ledger.close()
    return until


def _detail(state: asyncpg.Record) -> dict:
    import json

    detail = state["detail"]
    return json.loads(detail) if isinstance(detail, str) else dict(detail)


async def _copy_ranges(settings: Settings, pool: asyncpg.Pool, todo: list[tuple[int, int]], result: RebuildResult,
                       bar: ProgressBar, streams: int, first_ledger: asyncpg.Connection, until: datetime | None) -> None:
    queue = list(reversed(todo))

    async def stream(ledger: asyncpg.Connection) -> None:
        async with pool.acquire() as conn:
            while queue:
                lo, hi = queue.pop()
                async with conn.transaction():
                    copied = await copy_entries(ledger, conn, lo, hi, until)
                    await conn.execute("INSERT INTO rp_rebuild_ranges VALUES ($1, $2, $3, $4)", SOURCE, lo, hi, copied)
                    await conn.execute("UPDATE rp_rebuilds SET done_upto = done_upto + $2 WHERE source = $1",
                                       SOURCE, hi - lo)
                result.entries += copied
                bar.update(bar.done + hi - lo)

    extra = [await connect_read_only(settings.ledger_database_url) for _ in range(max(0, min(streams, len(todo)) - 1))]
    try:
        await asyncio.gather(*(stream(ledger) for ledger in [first_ledger, *extra]))
    finally:
        for ledger in extra:
            await ledger.close()
