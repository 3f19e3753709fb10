"""Consumed offsets kept in PostgreSQL: the source of truth for where each consumer group resumes.

Owns reads and writes of the `consumer_offsets` table (see careruntime/sql/plumbing.sql). Offsets are
saved in the same transaction as the state changes they account for, so "applied" and "consumed"
can never disagree. `next_offset` follows Kafka's convention: the offset of the next record to read.

Fencing: a consumer that lost its partitions without noticing (a long GC pause, a network split) must
not overwrite the progress of the consumer that took them over. `save_offsets(..., expected=...)`
therefore only moves an offset from the value this consumer last saw; any other value means someone
else wrote it, and OffsetConflict makes the caller roll back its whole transaction.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import asyncpg
from aiokafka.structs import TopicPartition

_LOAD = """
SELECT o.topic, o.partition, o.next_offset
FROM consumer_offsets AS o
JOIN unnest($2::text[], $3::int[]) AS want(topic, partition)
  ON o.topic = want.topic AND o.partition = want.partition
WHERE o.group_id = $1
"""

_UPSERT = """
INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
SELECT $1, t.topic, t.partition, t.next_offset, now()
FROM unnest($2::text[], $3::int[], $4::bigint[]) AS t(topic, partition, next_offset)
ON CONFLICT (group_id, topic, partition)
DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at
"""

# Compare-and-set in one statement. Under READ COMMITTED a concurrent writer's UPDATE makes this one
# wait for the row lock and then re-check `next_offset = expected` against the new row (so it matches
# nothing); a concurrent first INSERT makes this one's ON CONFLICT DO NOTHING insert nothing.
# Either way the row is missing from the RETURNING set and the caller sees a conflict.
_COMPARE_AND_SET = """
WITH input AS (
    SELECT * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[])
        AS t(topic, partition, next_offset, expected)
), updated AS (
    UPDATE consumer_offsets AS o
    SET next_offset = i.next_offset, updated_at = now()
    FROM input AS i
    WHERE o.group_id = $1 AND o.topic = i.topic AND o.partition = i.partition
      AND i.expected IS NOT NULL AND o.next_offset = i.expected
    RETURNING o.topic, o.partition
), inserted AS (
    INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
    SELECT $1, i.topic, i.partition, i.next_offset, now() FROM input AS i WHERE i.expected IS NULL
    ON CONFLICT (group_id, topic, partition) DO NOTHING
    RETURNING topic, partition
)
SELECT topic, partition FROM updated
UNION ALL
SELECT topic, partition FROM inserted
"""


class OffsetConflict(Exception):
    """Stored offsets moved under us: another consumer owns these partitions now. Roll back."""

    def __init__(self, partitions: Iterable[TopicPartition]) -> None:
        self.partitions = sorted(partitions)
        super().__init__(f"offsets changed by another consumer: {self.partitions}")


async def load_offsets(
    conn: asyncpg.Connection, group_id: str, tps: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """Stored next offsets of `tps` for `group_id`; partitions never saved are absent."""
    tps = list(tps)
    if not tps:
        return {}
    rows = await conn.fetch(_LOAD, group_id, [tp.topic for tp in tps], [tp.partition for tp in tps])
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def save_offsets(
    conn: asyncpg.Connection,
    group_id: str,
    offsets: Mapping[TopicPartition, int],
    expected: Mapping[TopicPartition, int | None] | None = None,
) -> None:
    """Store next offsets in one statement.

    Without `expected` this is a plain upsert. With it, each partition moves only from its expected
    stored value (None: no row yet); otherwise nothing is reliable any more and OffsetConflict is
    raised, which must abort the surrounding transaction.
    """
    if not offsets:
        return
    tps = list(offsets)
    topics = [tp.topic for tp in tps]
    partitions = [tp.partition for tp in tps]
    values = [offsets[tp] for tp in tps]
    if expected is None:
        await conn.execute(_UPSERT, group_id, topics, partitions, values)
        return
    rows = await conn.fetch(
        _COMPARE_AND_SET, group_id, topics, partitions, values, [expected.get(tp) for tp in tps]
    )
    if len(rows) != len(tps):
        done = {TopicPartition(r["topic"], r["partition"]) for r in rows}
        raise OffsetConflict(set(tps) - done)


__all__ = ["OffsetConflict", "load_offsets", "save_offsets"]
