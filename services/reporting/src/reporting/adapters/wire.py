"""Wire to rows: turns decoded records (careruntime.codec.Decoded) into rows of the projection tables.

One function per table, each returning a tuple in the column order of that table (see ENTRY_COLUMNS,
REJECTION_COLUMNS, DOMAIN_COLUMNS), so the store can COPY them without another mapping. An envelope's time
goes in as it came: the contract takes only times with an offset, a day inside the calendar in UTC.
"""
from __future__ import annotations

from typing import Any

import orjson
from careruntime.codec import Decoded

ENTRY_COLUMNS = ("entry_id", "council_id", "shard", "shard_seq", "effective_date", "recorded_at",
                 "cause_event_id", "cause_type", "rule_version", "reverses_entry_id", "accounts", "debits",
                 "credits", "prev_hash", "hash")
REJECTION_COLUMNS = ("rejection_id", "council_id", "cause_event_id", "cause_type", "shard", "reason_code",
                     "detail", "effective_date", "recorded_at")
DOMAIN_COLUMNS = ("event_id", "content_hash", "council_id", "type", "subject", "effective_date",
                  "recorded_at", "topic", "partition", "offset", "data")

ENTRY_POSTED = "ledger.EntryPosted.v1"
POSTING_REJECTED = "ledger.PostingRejected.v1"


def entry_row(decoded: Decoded) -> tuple[Any, ...]:
    env, p = decoded.envelope, decoded.payload
    # recorded_at exactly as the ledger wrote it (and hashed it): the same text as its journal holds.
    return (p.entry_id, env.councilid, p.shard, p.shard_seq, p.effective_date, env.data["recorded_at"],
            p.cause_event_id, p.cause_type, p.rule_version, p.reverses_entry_id,
            [line.account for line in p.lines], [line.debit_pence for line in p.lines],
            [line.credit_pence for line in p.lines], p.prev_hash, p.hash)


def rejection_row(decoded: Decoded) -> tuple[Any, ...]:
    env, p = decoded.envelope, decoded.payload
    return (env.id, env.councilid, p.cause_event_id, p.cause_type, p.shard, p.reason_code, p.detail,
            p.effective_date, env.time)


def domain_row(decoded: Decoded, topic: str, partition: int, offset: int) -> tuple[Any, ...]:
    env = decoded.envelope
    # The data as it travelled (the envelope's dict), JSON-encoded once: asyncpg's COPY takes jsonb as text.
    return (env.id, decoded.content_hash, env.councilid, env.type, env.subject,
            decoded.payload.effective_date, env.time, topic, partition, offset,
            orjson.dumps(env.data).decode())
