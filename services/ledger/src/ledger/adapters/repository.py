"""asyncpg repository of the ledger: load the slice of state a batch needs, write a batch's results.

Everything a batch writes goes out in one transaction, set-based: COPY for the journal (text format
when its values allow, `journal_copy`) and the processed-event log, one upsert each for balances,
shard heads and working state (the three sent as one message, `batch_sql`), then the outbox.
Writing is split in three so that the worker can pipeline batches: `snapshot.batch_rows` turns a batch's outcomes
and the book's dirty state into plain rows (a snapshot: the book may move on to the next batch),
`render` turns those into COPY data and array literals before the batch transaction opens, and
`write_rows` only sends them: the transactions run one at a time, so what they do not do themselves
is off the critical path.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
import orjson

from ..domain import chain
from ..domain.model import Book
from . import array_literal, batch_sql, journal_copy, state_codec
from .batch_sql import Stored
from .snapshot import BatchRows

JOURNAL_COLUMNS = ("entry_id", "shard", "shard_seq", "council_id", "effective_date", "recorded_at",
                   "cause_event_id", "cause_type", "rule_version", "reverses_entry_id",
                   "accounts", "debits", "credits", "prev_hash", "hash", "cause_subject", "correlation_id")
PROCESSED_COLUMNS = ("event_id", "content_hash", "council_id", "event_type", "shard", "source_offset",
                     "outcome", "entry_id", "reason_code", "detail")


async def load_heads(conn, shards: Iterable[str]) -> dict[str, tuple[int, str]]:
    rows = await conn.fetch("SELECT shard, shard_seq, hash FROM shard_heads WHERE shard = ANY($1::text[])", list(shards))
    return {r["shard"]: (r["shard_seq"], r["hash"]) for r in rows}


# Lookups probe the index once per wanted key (LATERAL ... OFFSET 0 keeps the planner from turning them
# into a hash join), so a batch costs the same however large the tables grow. Not `= ANY($n)`: once
# asyncpg's prepared statement runs on a generic plan, `= ANY` of a parameter array is not hashed, and a
# sequential-scan plan (chosen while a fresh table has no statistics) compares every row with every id
# of the batch: seconds per batch at 200k events. Not a plain join either: on processed_events the
# planner picks a hash join over the whole table, which grows with the table (docs/performance.md).
_STATE = ("SELECT s.kind, s.key, s.data FROM unnest($1::text::text[], $2::text::text[]) AS u(kind, key), "
          "LATERAL (SELECT kind, key, data FROM ledger_state s WHERE s.kind = u.kind AND s.key = u.key OFFSET 0) AS s")
_BALANCES = ("SELECT a.account, a.balance_pence FROM unnest($1::text::text[]) AS u(owner_ref), "
             "LATERAL (SELECT account, balance_pence FROM accounts a WHERE a.owner_ref = u.owner_ref OFFSET 0) AS a")
_PROCESSED = ("SELECT p.event_id, p.content_hash, p.outcome, p.reason_code FROM unnest($1::text::text[]) AS u(event_id), "
              "LATERAL (SELECT event_id, content_hash, outcome, reason_code FROM processed_events p "
              "WHERE p.event_id = u.event_id OFFSET 0) AS p")
# The index that allows one outcome per event id, and each conflicting content once (migration 0012): a
# batch decided without the look-up above fails on it when one of its events was processed before
# (service.ingest turns that into a rerun).
ONE_OUTCOME_INDEX = "processed_events_one_outcome"


async def load_slice(conn, book: Book, refs: dict[str, set[str]], event_ids: set[str], stored: Stored,
                     look_up_processed: bool = True) -> int:
    """Fill the book with what the batch refers to and the book does not hold yet (three round trips at most);
    every account and state row read is recorded in `stored`. The processed events among `event_ids` are
    read only with `look_up_processed`; returns how many rows that read found."""
    kinds, keys, owners = batch_sql.lookups(book, refs, stored)
    if keys:
        for r in await conn.fetch(_STATE, array_literal.text_array(kinds), array_literal.text_array(keys)):
            kind = r["kind"]
            stored.state.add((kind, r["key"]))
            if kind == "invoices":
                book.invoices.add(r["key"])
            else:
                state_codec.container(book, kind)[r["key"]] = state_codec.load(kind, orjson.loads(r["data"]))
    if owners:
        for r in await conn.fetch(_BALANCES, array_literal.text_array(owners)):
            book.balances[r["account"]] = r["balance_pence"]
            stored.accounts.add(r["account"])
        stored.owners.update(owners)
    if not look_up_processed:
        return 0
    unseen = event_ids.difference(book.processed)
    if not unseen:
        return 0
    found = await conn.fetch(_PROCESSED, array_literal.text_array(unseen))
    for r in found:
        if r["reason_code"] == "DUPLICATE_CONFLICT":
            book.processed[f"{r['event_id']}#{r['content_hash']}"] = (r["content_hash"], r["outcome"])
        else:
            book.processed[r["event_id"]] = (r["content_hash"], r["outcome"])
    return len(found)


@dataclass
class RenderedRows:
    """A batch's rows as its statements send them, made before the batch transaction opens, so that the
    transaction (one at a time, in order) only sends bytes: COPY data for the journal and the processed
    log, and the upserts of balances, shard heads and working state as one SQL text with their values
    written in (`statements`, sent in one round trip)."""

    journal_text: bytes | None = None  # COPY text of the journal rows; None: `journal` goes by binary COPY
    journal: list[tuple] = field(default_factory=list)
    processed_text: bytes = b""
    statements: str = ""  # ";"-separated upserts, values written in (sqltext); "" when none


# Journal rows rendered per slice, the event loop free in between (the transaction before this batch's
# sends its statements meanwhile).
RENDER_SLICE = 128


async def render(rows: BatchRows, stored: Stored | None = None) -> RenderedRows:
    """The literals and COPY data of `rows` (CPU only; yields to the event loop between its parts).

    What `stored` holds is updated in place and the rest inserted (`Stored`); with no `stored`, every
    balance and state row goes by upsert."""
    out = RenderedRows()
    journal, parts = rows.journal, []
    for start in range(0, len(journal), RENDER_SLICE):
        await asyncio.sleep(0)
        part = journal_copy.text_data(journal[start:start + RENDER_SLICE])
        if part is None:  # some value needs escaping: asyncpg's binary COPY for the whole batch
            out.journal = journal
            break
        parts.append(part)
    else:
        out.journal_text = b"".join(parts) or None
    await asyncio.sleep(0)
    if rows.processed:
        out.processed_text = journal_copy.scalar_text_data(rows.processed)
    out.statements = batch_sql.batch_statements(rows, stored)
    return out


async def write_rows(conn, rows: RenderedRows) -> None:
    """Send a batch's rendered rows on `conn`, inside the caller's transaction: three round trips, plus
    one when the journal must go by binary COPY."""
    if rows.statements:  # balances, heads and state: one simple-query message
        await conn.execute(rows.statements)
    if rows.journal_text:
        await conn.copy_to_table("journal_entries", source=_one_chunk(rows.journal_text), columns=JOURNAL_COLUMNS,
                                 format="text")
    elif rows.journal:
        await conn.copy_records_to_table("journal_entries", records=rows.journal, columns=JOURNAL_COLUMNS)
    if rows.processed_text:
        await conn.copy_to_table("processed_events", source=_one_chunk(rows.processed_text),
                                 columns=PROCESSED_COLUMNS, format="text")


def processed_before(exc: BaseException) -> bool:
    """Whether `exc` is the refusal of a second outcome for an event id (ONE_OUTCOME_INDEX)."""
    return isinstance(exc, asyncpg.UniqueViolationError) and exc.constraint_name == ONE_OUTCOME_INDEX


async def _one_chunk(data: bytes):
    """COPY data as an async iterable: asyncpg reads a file-like source through a thread pool, one
    round trip between the event loop and a thread per chunk; this hands it over as it is."""
    yield data


# One statement: the heads as this transaction sees them (its own, others' committed), chained to the last
# checkpoint. The table lock orders concurrent workers' checkpoints; it is taken only when one is due.
_CHECKPOINT = """
INSERT INTO ledger_checkpoints (checkpoint_seq, shards, shard_seqs, hashes, prev_hash, hash)
SELECT coalesce(last.checkpoint_seq, 0) + 1, h.shards, h.seqs, h.hashes, coalesce(last.hash, $1),
       encode(sha256(convert_to(coalesce(last.hash, $1) || '|' || h.body, 'UTF8')), 'hex')
  FROM (SELECT array_agg(shard ORDER BY shard COLLATE "C") AS shards,
               array_agg(shard_seq ORDER BY shard COLLATE "C") AS seqs,
               array_agg(hash::text ORDER BY shard COLLATE "C") AS hashes,
               string_agg(shard || ',' || shard_seq || ',' || hash, ';' ORDER BY shard COLLATE "C") AS body
          FROM shard_heads) AS h
  LEFT JOIN LATERAL (SELECT checkpoint_seq, hash FROM ledger_checkpoints
                      ORDER BY checkpoint_seq DESC LIMIT 1) AS last ON true
 WHERE h.shards IS NOT NULL
RETURNING checkpoint_seq, hash
"""


async def write_checkpoint(conn) -> tuple[int, str] | None:
    """Record every shard's head as the next checkpoint (inside the batch transaction); (seq, hash)."""
    await conn.execute("LOCK TABLE ledger_checkpoints IN SHARE ROW EXCLUSIVE MODE")
    row = await conn.fetchrow(_CHECKPOINT, chain.GENESIS)
    return (row["checkpoint_seq"], row["hash"]) if row else None
