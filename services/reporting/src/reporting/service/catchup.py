"""Consume topics with the projection handler until the projections have caught up with them.

Used by the rebuilds: the consumer is careruntime's BatchConsumer (offsets stored in the projection
database, in the same transaction as the rows), so an interrupted catch-up resumes where it stopped.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import asyncpg
from careruntime.consumer import BatchConsumer, BatchHandler, ConsumerSettings

from ..adapters.kafka_positions import consumable_ends
from .progress import ProgressBar, Silent


async def stored_offsets(conn: asyncpg.Connection, group_id: str) -> dict[tuple[str, int], int]:
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1",
                            group_id)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def forget_offsets(conn: asyncpg.Connection, group_id: str, topics: Sequence[str]) -> None:
    await conn.execute("DELETE FROM consumer_offsets WHERE group_id = $1 AND topic = ANY($2::text[])",
                       group_id, list(topics))


async def consume_until_caught_up(bootstrap: str, group_id: str, topics: Sequence[str], pool: asyncpg.Pool,
                                  handler: BatchHandler, label: str = "topics", progress: bool = True,
                                  timeout_s: float = 3600.0, max_records: int = 5000) -> int:
    """Run a BatchConsumer until its stored offsets reach the topics' ends as they were at the start;
    returns the number of records those ends stand for."""
    ends = await consumable_ends(bootstrap, topics)
    total = sum(ends.values())
    bar = ProgressBar(label, total) if progress else Silent(label, total)
    consumer = BatchConsumer(bootstrap, group_id, topics, pool, handler, ConsumerSettings(max_records=max_records))
    task = asyncio.create_task(consumer.run())
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            async with pool.acquire() as conn:
                stored = await stored_offsets(conn, group_id)
            done = sum(min(stored.get((tp.topic, tp.partition), 0), end) for tp, end in ends.items())
            bar.update(done)
            if done >= total:
                break
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("the consumer stopped before catching up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: not caught up after {timeout_s:.0f}s ({done:,}/{total:,})")
            await asyncio.sleep(0.1)
    finally:
        consumer.request_stop()
        try:
            await asyncio.wait_for(task, timeout=30)
        except Exception:
            task.cancel()
    bar.finish()
    return total
