"""Set-based reads of the ledger's database (read-only): binary COPY of journal rows straight into the
projection tables, without decoding a row in Python.

The ledger's `copy_from_query` output is streamed through a bounded queue into `copy_to_table` on the
projection connection; both ends speak PostgreSQL's binary COPY format, so the SELECT casts every
column to the exact type of the target column.
"""
from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg

from .wire import ENTRY_COLUMNS

ENTRIES_QUERY = """
SELECT entry_id, council_id, shard, shard_seq, effective_date, recorded_at, cause_event_id,
       cause_type, rule_version, reverses_entry_id, accounts, debits, credits, prev_hash::text, hash::text
  FROM journal_entries WHERE seq > $1 AND seq <= $2
   AND ($3::timestamptz IS NULL OR recorded_at::timestamptz <= $3)"""

OUTCOME_COLUMNS = ("event_id", "content_hash", "council_id", "event_type", "shard", "outcome", "entry_id",
                   "reason_code", "detail")
OUTCOMES_QUERY = """
SELECT event_id, content_hash::text, council_id, event_type, shard, outcome, entry_id, reason_code, detail
  FROM processed_events"""


BLOCK = 1 << 20


async def connect_read_only(dsn: str) -> asyncpg.Connection:
    """A connection to the ledger's database on which every transaction is read-only."""
    return await asyncpg.connect(dsn, server_settings={"default_transaction_read_only": "on"})


async def pipe(source: asyncpg.Connection, query: str, args: tuple, target: asyncpg.Connection, table: str,
               columns: tuple[str, ...]) -> int:
    """COPY (query) out of source into table on target (binary); returns the rows copied."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=16)
    pending = bytearray()

    async def collect(data: bytes) -> None:
        # PostgreSQL sends one message per row; handing each to the other connection would cost more
        # Python than the COPY itself, so rows travel in blocks of about a megabyte.
        pending.extend(data)
        if len(pending) >= BLOCK:
            await queue.put(bytes(pending))
            pending.clear()

    async def produce() -> None:
        try:
            await source.copy_from_query(query, *args, output=collect, format="binary")
            if pending:
                await queue.put(bytes(pending))
        finally:
            await queue.put(None)

    async def chunks():
        while (chunk := await queue.get()) is not None:
            yield chunk

    producer = asyncio.create_task(produce())
    try:
        status = await target.copy_to_table(table, source=chunks(), columns=list(columns), format="binary")
    except BaseException:
        producer.cancel()
        raise
    await producer
    return int(status.split()[-1])


async def copy_entries(ledger: asyncpg.Connection, target: asyncpg.Connection, after_seq: int, upto_seq: int,
                       until: datetime | None = None) -> int:
    """Entries with after_seq < seq <= upto_seq (and, with until, recorded by then)."""
    return await pipe(ledger, ENTRIES_QUERY, (after_seq, upto_seq, until), target, "rp_entries", ENTRY_COLUMNS)


async def copy_outcomes(ledger: asyncpg.Connection, target: asyncpg.Connection) -> int:
    return await pipe(ledger, OUTCOMES_QUERY, (), target, "rp_outcomes", OUTCOME_COLUMNS)
