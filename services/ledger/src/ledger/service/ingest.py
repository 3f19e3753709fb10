"""The ledger's batch handler: decoded business events in, entries/rejections and outbox rows out.

Whatever it writes commits in the consumer's transaction together with the consumed offsets, so a crash
anywhere leaves either the whole batch or none of it. The in-memory book is a cache of database state for
the partitions this process owns; it is dropped on any error, on any batch not committed and on rebalance.

Pipelined (careruntime.consumer): `prepare` loads what the book lacks (while it builds and orders the
batch's events), decides the whole batch in memory, snapshots its rows and renders them as COPY data and
literals; `PreparedLedgerBatch.write` only sends them, inside the batch transaction, while the next batch
is being prepared. What `prepare` reads from the database is only what the book does not
hold, and the book holds everything earlier batches decided, so reading while the previous batch is
still being committed sees nothing stale.

Idempotency is optimistic by default: an event id the book has not seen is taken as new without reading
the processed-event log, and the database's unique index of one outcome per event id (migration 0012) is the
judge. A batch holding an event processed before (a resend from before this process started) fails on
that index; its write raises `Rerun`, the consumer rolls it back, and for `careful_s` from then on (and
as long as look-ups keep finding processed events) every batch reads the log first, as the "always"
mode always does. The outcome is the same either way; only the look-up's cost differs.

An event whose posting would not fit the journal's 64-bit amounts (absurd input that validates) is found
only after its rule has changed the book: `prepare` then remembers the event as refused, drops the book and
raises `Rerun`, and the batch is decided again with that event rejected (AMOUNT_OUT_OF_RANGE) before its
rule runs. Without this the batch's write would fail on PostgreSQL's bigint columns, and be retried, forever.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from careruntime import outbox
from careruntime.codec import OUTBOX_HEADERS
from careruntime.consumer import Rerun

from ..adapters import repository, snapshot, wire
from . import deciding, ordering
from ..domain.invariants import AmountOutOfRange
from ..domain.model import Book, Outcome

LagOf = Callable[[Any], Awaitable[int | None]]
# Deciding a batch is CPU work; yielding to the event loop every so many events lets the previous batch's
# transaction send its next statement meanwhile, so PostgreSQL works while this process decides.
YIELD_EVERY = 16


@dataclass
class PreparedLedgerBatch:
    """A decided batch: its rows (and the same rendered for sending), its outbox messages and where
    held-back partitions resume."""

    rows: snapshot.BatchRows
    rendered: repository.RenderedRows
    messages: list[outbox.OutboxRow] = field(default_factory=list)
    resume: dict = field(default_factory=dict)
    checkpoint: bool = False  # also record every shard head (repository.write_checkpoint)
    optimistic: bool = False  # decided without reading the processed-event log (module docstring)

    async def write(self, conn) -> None:
        try:
            await repository.write_rows(conn, self.rendered)
        except Exception as exc:
            if self.optimistic and repository.processed_before(exc):
                raise Rerun(f"an event of this batch was processed before: {exc}") from exc
            raise
        await outbox.append(conn, self.messages)
        if self.checkpoint:
            await repository.write_checkpoint(conn)


async def _chunk_starts(total: int):
    """The first index of each YIELD_EVERY-long chunk of `total` items, yielding to the event loop between
    chunks (so the transaction in flight sends its next statement while a batch is decided)."""
    for start in range(0, total, YIELD_EVERY):
        if start:
            await asyncio.sleep(0)
        yield start


def rejection_rows(entries_topic: str, rejected: list[tuple[Outcome, str, Any]]) -> list[outbox.OutboxRow]:
    """The outbox rows of a batch's rejections ((outcome, shard, cause envelope), as `deciding.decide`
    collects them). Entries reach ledger.entries from the journal itself (adapters.entries_relay); a
    rejection is in no journal, so its message goes through the outbox. Both are keyed by shard."""
    return [outbox.OutboxRow(entries_topic, shard.encode(), wire.rejection_message(outcome, shard, env), OUTBOX_HEADERS)
            for outcome, shard, env in rejected]


class LedgerIngest:
    """One per worker process; `lag_of(tp)` tells how far a partition's reading is behind its end."""

    def __init__(self, *, entries_topic: str, budget_topics: list[str], other_topics: list[str] = (),
                 lag_of: LagOf | None = None, max_defer_seconds: float = 30.0,
                 checkpoint_interval_s: float = 60.0, order_patience_s: float = 5.0,
                 processed_lookup: str = "optimistic", careful_s: float = 60.0,
                 processed_cache_max: int = 1_000_000) -> None:
        self.entries_topic = entries_topic
        self.budget_topics = set(budget_topics)  # where budgets are agreed; others may run ahead of them
        # tie-break at equal recorded times: budget topics first, then the rest, in configured order
        self.topic_rank = {t: i for i, t in enumerate([*budget_topics, *other_topics])}
        self.lag_of = lag_of
        self.max_defer_seconds = max_defer_seconds
        self.checkpoint_interval_s = checkpoint_interval_s
        # How long to hold a batch of which nothing can be released in business order (a partner
        # partition is behind but none of its records has been fetched yet) before taking it as it came.
        self.order_patience_s = order_patience_s
        if processed_lookup not in ("optimistic", "always"):
            raise ValueError(f"processed_lookup must be 'optimistic' or 'always', not {processed_lookup!r}")
        self.processed_lookup = processed_lookup
        self.careful_s = careful_s
        self.careful_until = 0.0  # monotonic time until which every batch reads the processed-event log
        # Ids decided in this process that the book remembers, at most about this many (config.Settings).
        self.processed_cache_max = processed_cache_max
        self.waiting_since: float | None = None
        self.last_checkpoint = time.monotonic()
        self.assigned: Callable[[], Any] | None = None  # the consumer's current assignment, once running
        self.deferred_since: dict[tuple[str, int, int], float] = {}
        self.stats: dict[str, int] = {}
        # Event ids whose posting did not fit the journal's 64-bit amounts, and why (domain.invariants).
        self.refused: dict[str, str] = {}
        self.reset()

    def rank(self, topic: str) -> int:
        return self.topic_rank.get(topic, len(self.topic_rank))

    def reset(self) -> None:
        self.book = Book()
        self.book.refused = self.refused  # outlives every book: what was found out of range stays refused
        # What has a row in the database once the batches decided so far commit (repository.Stored).
        self.stored = repository.Stored()
        self.loaded_shards: set[str] = set()
        # Items of records the consumer holds for the next batch, per partition in offset order (a record
        # at an offset never changes): built, hashed and their references loaded once, not per batch.
        self.held_items: dict[Any, list[tuple]] = {}

    async def on_assigned(self, conn, tps) -> None:
        self.reset()

    async def on_revoked(self, tps) -> None:
        self.reset()

    def on_rollback(self) -> None:
        """A batch this book decided was not committed: forget everything not read from the database, and
        read the processed-event log for a while (the batch may have failed on an event seen before)."""
        self.careful_until = time.monotonic() + self.careful_s
        self.reset()

    def _looks_up_processed(self) -> bool:
        return self.processed_lookup == "always" or time.monotonic() < self.careful_until

    def _defer_allowed(self, tp, offset: int, budget_behind: bool) -> bool:
        """Defer while a budget topic this process reads is behind, and for at most max_defer_seconds."""
        first = self.deferred_since.setdefault((tp.topic, tp.partition, offset), time.monotonic())
        return budget_behind and time.monotonic() - first <= self.max_defer_seconds

    async def handle(self, conn, decoded_by_tp: dict, rejects_by_tp: dict | None = None) -> dict:
        """Decide and write a batch on `conn` in one go (the consumer's unpipelined path)."""
        prepared = await self.prepare_on(conn, decoded_by_tp)
        try:
            await prepared.write(conn)
        except BaseException:
            self.reset()  # the transaction will roll back: the cache must not keep what it never wrote
            raise
        return prepared.resume

    async def prepare(self, pool, decoded_by_tp: dict, rejects_by_tp: dict | None = None) -> PreparedLedgerBatch:
        """Decide a batch, reading what the book lacks on a connection of `pool` (no transaction)."""
        async with pool.acquire() as conn:
            return await self.prepare_on(conn, decoded_by_tp)

    async def prepare_on(self, conn, decoded_by_tp: dict) -> PreparedLedgerBatch:
        try:
            return await self._prepare(conn, decoded_by_tp)
        except AmountOutOfRange as exc:
            # Its rule changed the book before the amounts were found too large: decide the batch again from
            # the database, with that event refused up front (domain.ledger.apply).
            self.refused[exc.event_id] = exc.detail
            self.stats["amount_out_of_range"] = self.stats.get("amount_out_of_range", 0) + 1
            self.reset()
            raise Rerun(f"event {exc.event_id} posts an amount out of range; deciding again without it") from exc
        except BaseException:
            self.reset()
            raise

    async def _build_and_order(self, batch: dict, fresh: list) -> tuple[ordering.Release, dict, list]:
        """Build the fresh records' items in place, then order the batch: (plan, lags, assigned)."""
        async for start in _chunk_starts(len(fresh)):
            deciding.build(fresh, start, start + YIELD_EVERY)
        assigned = [tp for tp in (self.assigned() if self.assigned else batch) if tp.topic in self.topic_rank or tp in batch]
        lags = {tp: (await self.lag_of(tp)) if self.lag_of else 0 for tp in assigned}
        now = time.monotonic()
        patience_over = self.waiting_since is not None and now - self.waiting_since >= self.order_patience_s
        plan = ordering.release(batch, assigned, lambda tp: lags.get(tp) != 0, self.rank,
                                may_fall_back=patience_over)
        if plan.waiting:
            self.waiting_since = self.waiting_since or now
            self.stats["order_wait"] = self.stats.get("order_wait", 0) + 1
        else:
            self.waiting_since = None
        if plan.fallback:
            self.stats["order_fallback"] = self.stats.get("order_fallback", 0) + 1
        return plan, lags, assigned

    async def _prepare(self, conn, decoded_by_tp: dict) -> PreparedLedgerBatch:
        book = self.book
        if len(book.processed) > self.processed_cache_max:
            # Forget the ids decided so far (a batch in flight included): a resend of one is refused by the
            # database's one-outcome index and decided again with the look-up, as after a restart.
            book.processed.clear()
            self.stats["processed_forgotten"] = self.stats.get("processed_forgotten", 0) + 1
        refs: dict[str, set[str]] = {}
        event_ids: set[str] = set()
        batch: dict = {}
        fresh: list = []  # records not held from an earlier batch: (their batch list, index, record, decoded)
        deciding.collect(decoded_by_tp, self.held_items, batch, refs, event_ids, fresh)
        new_shards = [f"{tp.topic}:{tp.partition}" for tp in batch]
        new_shards = [shard for shard in new_shards if shard not in self.loaded_shards]
        if new_shards:
            book.heads.update(await repository.load_heads(conn, new_shards))
            self.loaded_shards.update(new_shards)
        # What the book lacks is read while the batch's events are built and ordered: neither touches the
        # book, and nothing is decided before the read is in.
        look_up = self._looks_up_processed()
        loading = asyncio.ensure_future(repository.load_slice(conn, book, refs, event_ids, self.stored, look_up))
        try:
            plan, lags, assigned = await self._build_and_order(batch, fresh)
        except BaseException:
            loading.cancel()
            await asyncio.gather(loading, return_exceptions=True)
            raise
        if await loading:  # events processed before keep arriving: stay careful
            self.careful_until = time.monotonic() + self.careful_s
        resume: dict = dict(plan.resume)
        # behind = not read to its end yet, or read but held back in this batch for business order
        budget_behind = any((lags.get(tp) != 0 or tp in resume) for tp in assigned if tp.topic in self.budget_topics)
        results: list[tuple[Outcome, str, int, Any]] = []
        stopped: set[int] = set()  # partition numbers held back after a deferral, in business order
        # per partition of the batch: its shard name, and whether its retriable rejections may wait
        shards = {tp: (f"{tp.topic}:{tp.partition}", tp.topic not in self.budget_topics) for tp in batch}
        rejected: list[tuple[Outcome, str, Any]] = []
        sequence = plan.sequence
        async for start in _chunk_starts(len(sequence)):
            deciding.decide(book, sequence, start, start + YIELD_EVERY, shards, stopped, resume, self.deferred_since,
                            lambda tp, offset: self._defer_allowed(tp, offset, budget_behind), self.stats,
                            results, rejected)
        rows = rejection_rows(self.entries_topic, rejected)
        held = {tp: items for tp, items in self.held_items.items() if tp not in batch}
        for tp, offset in resume.items():
            if tp in batch:
                held[tp] = deciding.held_from(batch[tp], offset)
        self.held_items = held
        batch_rows = snapshot.batch_rows(book, results)
        checkpoint = bool(batch_rows.heads) and time.monotonic() - self.last_checkpoint >= self.checkpoint_interval_s
        if checkpoint:
            self.last_checkpoint = time.monotonic()
        rendered = await repository.render(batch_rows, self.stored)
        self.stored.record(batch_rows)
        return PreparedLedgerBatch(batch_rows, rendered, rows, resume, checkpoint, optimistic=not look_up)
