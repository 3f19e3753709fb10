"""The batch consumer's pipeline against the real broker and PostgreSQL: a handler with `prepare` decides
batch N+1 while batch N commits; a batch that fails voids the one prepared after it; a batch whose write
asks for a rerun is rolled back and decided again at once; records a handler holds back are kept decoded
for the next batch instead of being fetched and decoded again."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from prometheus_client import CollectorRegistry

from careruntime.consumer import BatchConsumer, ConsumerSettings, Rerun
from careruntime.metrics import RuntimeMetrics

from .test_runtime_consumer import (
    COLUMNS, assert_exactly_once, count_applied, plumbing_pool, produce, stop, wait_for,
)

pytestmark = pytest.mark.integration


@dataclass
class Prepared:
    rows: list[tuple]
    resume: dict
    owner: InMemoryCounter
    fail: bool = False
    rerun: bool = False

    async def write(self, conn) -> None:
        self.owner.outstanding -= 1
        self.owner.writing += 1
        try:
            await conn.copy_records_to_table("applied", records=self.rows, columns=COLUMNS)
            await conn.execute("SELECT pg_sleep(0.03)")  # a slow commit, so the next batch is prepared meanwhile
            if self.fail:
                # The server ends this session mid-transaction: a transient failure of this batch.
                await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            if self.rerun:  # after its rows went in: the rollback must take them out again
                raise Rerun("decided on an assumption that turned out false")
        finally:
            self.owner.writing -= 1


@dataclass
class InMemoryCounter:
    """A pipelining handler with a cache like the ledger's book: the next offset it expects per partition,
    read from the database only when it does not know it. A batch prepared on a stale cache (the
    consumer prepared while a failed or uncommitted batch was still in flight) shows up in `errors`."""

    fail_on_write: int | None = None  # the n-th prepared batch fails inside its transaction
    rerun_on_write: int | None = None  # the n-th prepared batch asks for a rerun inside its transaction
    rerun_on_prepare: int | None = None  # the n-th call of prepare asks for a rerun instead of returning
    hold_from: dict = field(default_factory=dict)  # partition -> hold records at/after this offset ...
    hold_batches: int = 0  # ... for this many batches
    prepared: int = 0
    writing: int = 0
    overlaps: int = 0  # batches prepared while another batch's transaction was running
    outstanding: int = 0  # batches prepared whose transaction has not started writing
    queued_behind: int = 0  # batches prepared while one batch was writing and another waited its turn
    rollbacks: int = 0
    offered: dict = field(default_factory=dict)  # (partition, offset) -> times handed to prepare
    errors: list = field(default_factory=list)
    expected: dict = field(default_factory=dict)

    async def handle(self, conn, decoded, rejects):  # pragma: no cover - the consumer must use prepare
        raise AssertionError("a handler with prepare() is pipelined")

    def on_rollback(self) -> None:
        self.rollbacks += 1
        self.expected.clear()
        self.outstanding = 0  # what was prepared and not written is void

    async def prepare(self, pool, decoded, rejects) -> Prepared:
        self.prepared += 1
        await pool.fetchval("SELECT pg_sleep(0.005)")  # reads, like the ledger's: the batch in flight runs
        if self.prepared == self.rerun_on_prepare:  # found, while deciding, that it must decide otherwise
            raise Rerun("found out while deciding")  # the consumer's on_rollback drops the cache
        if self.writing:
            self.overlaps += 1
            if self.outstanding:
                self.queued_behind += 1
        rows, resume = [], {}
        for tp, items in decoded.items():
            if tp not in self.expected:
                top = await pool.fetchval('SELECT max("offset") FROM applied WHERE partition = $1', tp.partition)
                self.expected[tp] = 0 if top is None else top + 1
            for record, d in items:
                key = (tp.partition, record.offset)
                self.offered[key] = self.offered.get(key, 0) + 1
                hold = self.hold_from.get(tp.partition)
                if hold is not None and record.offset >= hold and self.prepared <= self.hold_batches:
                    resume[tp] = record.offset
                    break
                if record.offset != self.expected[tp]:
                    self.errors.append(f"{tp.partition}:{record.offset} decided, expected {self.expected[tp]}")
                self.expected[tp] = record.offset + 1
                rows.append((d.envelope.id, record.topic, record.partition, record.offset))
        self.outstanding += 1
        return Prepared(rows, resume, self, fail=self.prepared == self.fail_on_write,
                        rerun=self.prepared == self.rerun_on_write)


class CountingMetrics(RuntimeMetrics):
    def __init__(self) -> None:
        super().__init__(CollectorRegistry(), namespace="t")
        self.decoded = 0

    def batch_decoded(self, batch, rejects) -> None:
        self.decoded += sum(len(records) for records in batch.values())
        super().batch_decoded(batch, rejects)


async def applied_in_order(pool, partitions: int, per_partition: int) -> None:
    for p in range(partitions):
        offsets = [r["offset"] for r in await pool.fetch(
            'SELECT "offset" FROM applied WHERE partition = $1 ORDER BY seq', p)]
        assert offsets == list(range(per_partition)), p


async def _consume_three_partitions(stack, fresh_db, topics, tmp_path, handler, settings, metrics=None) -> None:
    """300 records on each of three partitions through a BatchConsumer with `handler`, until all 900 are
    applied (and 0.3 s more); then checks each was applied once, in order."""
    topic = (await topics(["in"], partitions=3))["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    try:
        for p in range(3):
            await produce(stack.bootstrap, topic, range(p * 1000, p * 1000 + 300), partition=p)
        consumer = BatchConsumer(stack.bootstrap, f"g-{topic}", [topic], pool, handler, settings, metrics)
        task = asyncio.create_task(consumer.run())
        await wait_for(lambda: _at_least(count_applied(pool), 900))
        await asyncio.sleep(0.3)
        await stop(task)
        await assert_exactly_once(pool, 900, topic)
        await applied_in_order(pool, 3, 300)
    finally:
        await pool.close()


@pytest.mark.parametrize("depth", [1, 2])
async def test_a_failed_batch_voids_the_batches_prepared_after_it(stack, fresh_db, topics, tmp_path, depth):
    handler = InMemoryCounter(fail_on_write=3)
    settings = ConsumerSettings(max_records=40, fetch_timeout_ms=100, retry_backoff_s=0.05, pipeline_depth=depth)
    await _consume_three_partitions(stack, fresh_db, topics, tmp_path, handler, settings)
    assert handler.overlaps > 0  # batches were prepared while the one before was committing
    # depth 2: a batch was also prepared while one was writing and the next waited behind it
    assert (handler.queued_behind > 0) == (depth == 2), handler.queued_behind
    assert handler.rollbacks >= 1  # the failure reached the handler, which dropped its cache
    assert handler.errors == []  # no batch was ever decided on a stale cache


@pytest.mark.parametrize("where", ["write", "prepare"])
async def test_a_rerun_rolls_the_batch_back_and_decides_it_again_at_once(stack, fresh_db, topics, tmp_path, where):
    """From the batch's write (after its rows went in), or from `prepare` (the ledger, when an event's
    posting turns out too large for the journal): the batches in flight commit or are voided as with a
    failure, and everything from the stored offsets on is decided again, without the failure's backoff."""
    handler = InMemoryCounter(**{f"rerun_on_{where}": 3})
    metrics = CountingMetrics()
    # A failure would back off for 60 s and the 30 s wait for every record would time out: a rerun goes
    # again at once. The rolled-back rows go in again, once.
    settings = ConsumerSettings(max_records=40, fetch_timeout_ms=100, retry_backoff_s=60.0, pipeline_depth=2)
    await _consume_three_partitions(stack, fresh_db, topics, tmp_path, handler, settings, metrics)
    assert handler.rollbacks == 1  # the handler heard of it (and dropped its cache)
    assert handler.errors == []  # nothing was decided on the voided batches' cache
    failures = {s.labels["kind"]: s.value for m in metrics.registry.collect() if m.name == "t_batch_failures"
                for s in m.samples if s.name.endswith("_total")}
    assert failures == {"rerun": 1.0}, failures


async def test_held_records_are_offered_again_without_being_fetched_again(stack, fresh_db, topics, tmp_path):
    topic = (await topics(["in"], partitions=2))["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    try:
        for p in range(2):
            await produce(stack.bootstrap, topic, range(p * 1000, p * 1000 + 200), partition=p)
        handler = InMemoryCounter(hold_from={0: 20}, hold_batches=6)  # partition 0 waits at offset 20
        metrics = CountingMetrics()
        settings = ConsumerSettings(max_records=500, fetch_timeout_ms=100, deferred_retry_s=0.0, max_held_records=1)
        consumer = BatchConsumer(stack.bootstrap, f"g-{topic}", [topic], pool, handler, settings, metrics)
        task = asyncio.create_task(consumer.run())
        await wait_for(lambda: _at_least(count_applied(pool), 400))
        await asyncio.sleep(0.3)
        await stop(task)
        assert handler.offered[(0, 20)] >= 2  # held, then offered again
        assert metrics.decoded == 400  # ... but every record was fetched and decoded once
        assert handler.errors == []
        await assert_exactly_once(pool, 400, topic)
        await applied_in_order(pool, 2, 200)
    finally:
        await pool.close()


async def _at_least(value, n: int) -> bool:
    return (await value) >= n
