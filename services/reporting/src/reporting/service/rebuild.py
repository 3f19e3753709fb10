"""Rebuilding the projections: from the ledger's journal (set-based, fastest) or from the topics at offset zero.

- `rebuild_from_journal`: binary COPY of the journal (service.journal_replay), in ranges of journal sequence
  numbers by parallel streams, straight into rp_entries (its indexes are dropped for the load and made again at the end); the ledger's outcome log
  into rp_outcomes; the domain topics (the dimensions, which are not in the journal) through the
  projection consumer; then the rejections, derived from the outcome log and the events they refused.
- `rebuild_from_topics`: every projection from ledger.entries.v1 and the domain topics, from offset zero.

Both checkpoint (the journal ranges copied, in rp_rebuild_ranges; the topic offsets are the consumer's
own, stored with the rows), so `resume=True` carries on after a crash or Ctrl-C instead of starting again.
Stop the projection worker while a rebuild runs: the rebuild owns the worker's consumer group meanwhile.
"""
from __future__ import annotations

import json
import time
from datetime import datetime

import asyncpg

from ..config import Settings
from .catchup import consume_until_caught_up, forget_offsets
from .journal_replay import copy_journal
from .project import ProjectionHandler
from .rebuild_state import PROJECTIONS, RebuildResult, ensure_entry_indexes, load_state, start_rebuild

DERIVE_REJECTIONS = """
INSERT INTO rp_rejections (rejection_id, council_id, cause_event_id, cause_type, shard, reason_code, detail,
                           effective_date, recorded_at)
SELECT 'R' || encode(sha256(convert_to(o.event_id || '|' || o.content_hash, 'UTF8')), 'hex'), o.council_id,
       o.event_id, o.event_type, o.shard, coalesce(o.reason_code, ''), coalesce(o.detail, ''), d.effective_date,
       d.recorded_at
  FROM rp_outcomes o JOIN rp_domain_events d USING (event_id, content_hash)
 WHERE o.outcome = 'rejected'
ON CONFLICT DO NOTHING"""


async def rebuild_from_journal(settings: Settings, pool: asyncpg.Pool, resume: bool = False,
                               progress: bool = True, chunk: int | None = None,
                               until: datetime | None = None) -> RebuildResult:
    """until: only what was recorded by then (the projection as it would have been), e.g. for an audit."""
    result = RebuildResult("journal")
    until = await copy_journal(settings, pool, result, resume, progress, chunk, until=until)
    handler = ProjectionHandler(settings.entries_topic, until)
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
            if undated and until is None:
                result.notes.append(f"{undated} rejections name an event not (yet) on the domain topics; not dated")
            await conn.execute("UPDATE rp_rebuilds SET finished_at = now(), detail = detail || $2::jsonb WHERE source = $1",
                               "journal", json.dumps({"entries": result.entries, "outcomes": result.outcomes}))
        await conn.execute("ANALYZE")  # planner statistics of the fresh projections (a report's plan needs them)
    return result


async def rebuild_from_topics(settings: Settings, pool: asyncpg.Pool, resume: bool = False,
                              progress: bool = True, until: datetime | None = None) -> RebuildResult:
    result = RebuildResult("topics")
    async with pool.acquire() as conn:
        state = await load_state(conn, "topics")
        if not (resume and state is not None and state["finished_at"] is None):
            await start_rebuild(conn, "topics", 0, PROJECTIONS, {"until": until.isoformat() if until else None})
            await forget_offsets(conn, settings.group_id, settings.topics)
            state = await load_state(conn, "topics")
        await ensure_entry_indexes(conn)
    detail = json.loads(state["detail"]) if isinstance(state["detail"], str) else dict(state["detail"])
    until = datetime.fromisoformat(detail["until"]) if detail.get("until") else None
    handler = ProjectionHandler(settings.entries_topic, until)
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
        await conn.execute("ANALYZE")  # planner statistics of the fresh projections (a report's plan needs them)
    return result


__all__ = ["RebuildResult", "copy_journal", "rebuild_from_journal", "rebuild_from_topics"]
