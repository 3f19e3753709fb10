"""The journal as the outbox of ledger.entries.v1: a relay source that reads entries past a cursor per shard.

The worker writes each posted entry once, to the journal, with its cause's subject and correlation id
(migration 0006); this source builds the EntryPosted message from the row when the relay publishes it,
the same bytes the worker used to put in the outbox. Rejections are in no journal and still go through
the outbox (careruntime.relay.OutboxSource), so the ledger's relay process runs both sources.

Gap-free: a shard is written by one worker at a time, its shard_seq has no holes, and shard_heads moves
in the same transaction as its entries. A cursor per shard (`entries_relayed`) therefore never passes an
entry that commits later. Delivery is at least once, as for the outbox: a crash after Kafka acknowledged
a batch and before the cursor's commit sends that batch again, with the same message ids.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from careruntime.codec import OUTBOX_HEADERS

from . import wire

ENTRIES_CHANNEL = "ledger_entries"  # migration 0006 notifies it once per statement adding entries
ENTRIES_LOCK_KEY = 0x6C6564676572  # "ledger" in ASCII: leadership of the entries relay, one per database
_HEADERS = orjson.dumps(OUTBOX_HEADERS).decode()

# Per shard the first `limit` entries past its cursor (the (shard, shard_seq) index), then the oldest
# `limit` of those by insertion order: a prefix of every shard's backlog, in roughly commit order.
_TAKE = """
SELECT j.seq, j.entry_id, j.shard, j.shard_seq, j.council_id, j.effective_date, j.recorded_at,
       j.cause_event_id, j.cause_type, j.rule_version, j.reverses_entry_id, j.accounts, j.debits,
       j.credits, j.prev_hash, j.hash, j.cause_subject, j.correlation_id, j.committed_at
  FROM shard_heads h
  LEFT JOIN entries_relayed r ON r.shard = h.shard
 CROSS JOIN LATERAL (SELECT * FROM journal_entries j
                      WHERE j.shard = h.shard AND j.shard_seq > coalesce(r.shard_seq, 0)
                      ORDER BY j.shard_seq LIMIT $1) AS j
 WHERE h.shard_seq > coalesce(r.shard_seq, 0)
 ORDER BY j.seq
 LIMIT $1
"""
_ADVANCE = """
INSERT INTO entries_relayed (shard, shard_seq) SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (shard) DO UPDATE SET shard_seq = greatest(entries_relayed.shard_seq, EXCLUDED.shard_seq)
"""


class JournalSource:
    """careruntime.relay.RelaySource over the journal, publishing to `topic` keyed by shard."""

    name = "careledger-entries-relay"
    lock_key = ENTRIES_LOCK_KEY
    channel = ENTRIES_CHANNEL

    def __init__(self, topic: str) -> None:
        self.topic = topic

    async def take(self, conn: asyncpg.Connection, limit: int) -> Sequence[Mapping[str, Any]]:
        return [{"id": r["seq"], "shard": r["shard"], "shard_seq": r["shard_seq"], "topic": self.topic,
                 "key": r["shard"].encode(), "value": wire.entry_message(r), "headers": _HEADERS,
                 "created_at": r["committed_at"]}
                for r in await conn.fetch(_TAKE, limit)]

    async def done(self, conn: asyncpg.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        last: dict[str, int] = {}
        for row in rows:
            last[row["shard"]] = max(last.get(row["shard"], 0), row["shard_seq"])
        await conn.execute(_ADVANCE, list(last), list(last.values()))

