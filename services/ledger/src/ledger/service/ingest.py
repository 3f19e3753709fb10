"""The ledger's batch handler: decoded business events in, entries/rejections and outbox rows out.

Runs inside the consumer's transaction: whatever it writes commits together with the consumed offsets,
so a crash anywhere leaves either the whole batch or none of it. The in-memory book is a cache of
database state for the partitions this process owns; it is dropped on any error and on rebalance.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from careruntime import outbox
from careruntime.codec import OUTBOX_HEADERS

from ..adapters import repository, wire
from ..domain.ledger import apply
from ..domain.model import Book, Outcome

log = structlog.get_logger(__name__)

LagOf = Callable[[Any], Awaitable[int | None]]


class LedgerIngest:
    """One per worker process; `lag_of(tp)` tells how far a partition's reading is behind its end."""

    def __init__(self, *, entries_topic: str, budget_topics: set[str], lag_of: LagOf | None = None,
                 max_defer_seconds: float = 30.0) -> None:
        self.entries_topic = entries_topic
        self.budget_topics = budget_topics  # topics where budgets are agreed; others may run ahead of them
        self.lag_of = lag_of
        self.max_defer_seconds = max_defer_seconds
        self.assigned: Callable[[], Any] | None = None  # the consumer's current assignment, once running
        self.deferred_since: dict[tuple[str, int, int], float] = {}
        self.stats: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        self.book = Book()
        self.loaded_owners: set[str] = set()
        self.loaded_shards: set[str] = set()

    async def on_assigned(self, conn, tps) -> None:
        self.reset()

    async def on_revoked(self, tps) -> None:
        self.reset()

    async def _defer_allowed(self, tp, offset: int, assigned) -> bool:
        """Defer while a budget topic this process reads is behind, and for at most max_defer_seconds."""
        key = (tp.topic, tp.partition, offset)
        first = self.deferred_since.setdefault(key, time.monotonic())
        if time.monotonic() - first > self.max_defer_seconds:
            return False
        if self.lag_of is None:
            return True
        lags = [await self.lag_of(other) for other in assigned if other.topic in self.budget_topics]
        return not lags or any(lag is None or lag > 0 for lag in lags)

    async def handle(self, conn, decoded_by_tp: dict, rejects_by_tp: dict | None = None) -> dict:
        try:
            return await self._handle(conn, decoded_by_tp)
        except BaseException:
            self.reset()  # the transaction will roll back: the cache must not keep what it never wrote
            raise

    async def _handle(self, conn, decoded_by_tp: dict) -> dict:
        book = self.book
        refs: dict[str, set[str]] = {}
        event_ids: set[str] = set()
        batches = []
        for tp in sorted(decoded_by_tp, key=lambda t: (t.topic not in self.budget_topics, t.topic, t.partition)):
            items = []
            for record, decoded in decoded_by_tp[tp]:
                env = decoded.envelope
                ev = wire.to_event(env, decoded.payload, decoded.content_hash)
                wire.refs_of(env.councilid, decoded.payload, refs)
                event_ids.add(ev.event_id)
                items.append((record, env, ev))
            batches.append((tp, f"{tp.topic}:{tp.partition}", items))
        new_shards = [shard for _, shard, _ in batches if shard not in self.loaded_shards]
        if new_shards:
            book.heads.update(await repository.load_heads(conn, new_shards))
            self.loaded_shards.update(new_shards)
        await repository.load_slice(conn, book, refs, event_ids, self.loaded_owners)

        results: list[tuple[Outcome, str, int]] = []
        rows = []
        resume: dict = {}
        assigned = self.assigned() if self.assigned else list(decoded_by_tp)
        for tp, shard, items in batches:
            may_defer = tp.topic not in self.budget_topics
            for record, env, ev in items:
                outcome = apply(book, ev, shard, defer_retriable=may_defer)
                if outcome.kind == "deferred" and not await self._defer_allowed(tp, record.offset, assigned):
                    outcome = apply(book, ev, shard)
                if outcome.kind == "deferred":
                    resume[tp] = record.offset
                    break
                self.deferred_since.pop((tp.topic, tp.partition, record.offset), None)
                self.stats[outcome.kind] = self.stats.get(outcome.kind, 0) + 1
                results.append((outcome, shard, record.offset))
                if outcome.kind == "posted":
                    rows.append(outbox.OutboxRow(self.entries_topic, shard.encode(),
                                                 wire.entry_message(outcome.entry, env), OUTBOX_HEADERS))
                elif outcome.kind == "rejected":
                    rows.append(outbox.OutboxRow(self.entries_topic, shard.encode(),
                                                 wire.rejection_message(outcome, shard, env), OUTBOX_HEADERS))
        await repository.write_batch(conn, book, results)
        await outbox.append(conn, rows)
        return resume
