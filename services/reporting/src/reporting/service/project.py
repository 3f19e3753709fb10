"""The projection handler: a careruntime BatchHandler that writes each consumed batch into the projections.

Consumes ledger.entries.v1 (EntryPosted -> rp_entries, PostingRejected -> rp_rejections) and the domain
topics (every event -> rp_domain_events). The BatchConsumer commits the rows and the consumed offsets in
one transaction; the store inserts only rows not seen before, so redelivery changes nothing.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import asyncpg
from aiokafka.structs import TopicPartition
from careruntime.consumer import DecodedBatch, RejectedBatch

from ..adapters.store import insert_new
from ..adapters.wire import ENTRY_POSTED, POSTING_REJECTED, domain_row, entry_row, rejection_row


class ProjectionHandler:
    """Routes records by topic: the entries topic feeds the ledger facts, every other topic the dimensions."""

    def __init__(self, entries_topic: str, until: datetime | None = None) -> None:
        self.entries_topic = entries_topic
        self.until = until  # a rebuild "as known at": facts recorded later are read past, not kept
        self.stats: Counter[str] = Counter()

    async def handle(self, conn: asyncpg.Connection, decoded: DecodedBatch,
                     rejects: RejectedBatch) -> Mapping[TopicPartition, int] | None:
        entries, rejections, domain = [], [], []
        for tp, items in decoded.items():
            if self.until is not None:
                items = [(r, d) for r, d in items if _recorded(d) <= self.until]
            if tp.topic == self.entries_topic:
                for _record, dec in items:
                    if dec.envelope.type == ENTRY_POSTED:
                        entries.append(entry_row(dec))
                    elif dec.envelope.type == POSTING_REJECTED:
                        rejections.append(rejection_row(dec))
            else:
                domain.extend(domain_row(dec, tp.topic, tp.partition, record.offset) for record, dec in items)
        self.stats["entries"] += await insert_new(conn, "rp_entries", entries)
        self.stats["rejections"] += await insert_new(conn, "rp_rejections", rejections)
        self.stats["domain_events"] += await insert_new(conn, "rp_domain_events", domain)
        self.stats["dead_letters"] += sum(len(v) for v in rejects.values())
        self.stats["records"] += sum(len(v) for v in decoded.values())
        return None


def _recorded(decoded) -> datetime:
    """When the fact was recorded: an entry's cause time (what the ledger hashed), else the envelope time."""
    if decoded.envelope.type == ENTRY_POSTED:
        return decoded.payload.recorded_at
    return decoded.envelope.time
