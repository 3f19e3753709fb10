"""The batch consumer against the real broker and PostgreSQL: exactly once across kills and restarts,
resuming from the offsets stored in PostgreSQL, and partitions a handler defers."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from careschemas.examples import example_envelope

from careruntime.consumer import BatchConsumer, ConsumerSettings
from careruntime.offsets import save_offsets

pytestmark = pytest.mark.integration

TYPE = "allocation.PersonalBudgetRevised.v1"
COLUMNS = ["event_id", "topic", "partition", "offset"]
FAST = ConsumerSettings(max_records=200, fetch_timeout_ms=100, retry_backoff_s=0.05, deferred_retry_s=0.2)

APPLIED_SQL = """
CREATE TABLE applied (
    seq bigserial PRIMARY KEY, event_id text NOT NULL, topic text NOT NULL, partition int NOT NULL,
    "offset" bigint NOT NULL
)
"""


def event_value(n: int) -> tuple[bytes, bytes]:
    doc = example_envelope(TYPE)
    budget = f"PB-{n % 17:04d}"
    doc.update(id=f"evt-{n:06d}", subject=budget)
    doc["data"].update(budget_id=budget, amount_pence=1000 + n)
    return budget.encode(), orjson.dumps(doc)


async def produce(bootstrap: str, topic: str, numbers, partition: int | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for n in numbers:
            key, value = event_value(n)
            futures.append(await producer.send(topic, value, key=key, partition=partition))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


PLUMBING_MIGRATION = """
from yoyo import step
from careruntime.sql import PLUMBING_ROLLBACK_SQL, PLUMBING_SQL

steps = [step(PLUMBING_SQL, PLUMBING_ROLLBACK_SQL)]
"""


async def runtime_db(fresh_db, tmp_path) -> str:
    """A fresh database migrated the way a service does it: the runtime plumbing, then its own table."""
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "0001_plumbing.py").write_text(PLUMBING_MIGRATION)
    (folder / "0002_applied.sql").write_text(APPLIED_SQL)
    return await fresh_db("runtime", migrations_dir=folder)


async def plumbing_pool(fresh_db, tmp_path) -> asyncpg.Pool:
    return await asyncpg.create_pool(await runtime_db(fresh_db, tmp_path), min_size=1, max_size=4)


class Recorder:
    """Writes one `applied` row per decoded record; optional faults to kill it part-way."""

    def __init__(self) -> None:
        self.batches = 0
        self.block_on_batch: int | None = None  # hang inside the transaction on this batch
        self.entered_block = asyncio.Event()
        self.kill_connection_on_batch: int | None = None

    async def handle(self, conn, decoded, rejects):
        self.batches += 1
        rows = [(d.envelope.id, r.topic, r.partition, r.offset) for items in decoded.values() for r, d in items]
        await conn.copy_records_to_table("applied", records=rows, columns=COLUMNS)
        if self.batches == self.kill_connection_on_batch:
            # The server ends this session mid-transaction, as when PostgreSQL restarts: a transient failure.
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        if self.batches == self.block_on_batch:
            self.entered_block.set()
            await asyncio.Event().wait()
        return None


async def wait_for(predicate, timeout: float = 30.0, every: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(every)


async def count_applied(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM applied")


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def assert_exactly_once(pool, total: int, topic: str) -> None:
    row = await pool.fetchrow("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM applied")
    assert (row["n"], row["d"]) == (total, total)
    # Stored offsets account for every record: each partition's next offset is its highest applied + 1.
    stored = {r["partition"]: r["next_offset"] for r in await pool.fetch(
        "SELECT partition, next_offset FROM consumer_offsets WHERE topic = $1", topic)}
    applied = {r["partition"]: r["top"] + 1 for r in await pool.fetch(
        'SELECT partition, max("offset") AS top FROM applied GROUP BY partition')}
    assert stored == applied


async def test_killed_mid_stream_and_restarted_applies_every_message_exactly_once(
        stack, fresh_db, topics, tmp_path):
    names = await topics(["in"], partitions=3)
    topic = names["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    group = f"g-{topic}"
    try:
        await produce(stack.bootstrap, topic, range(0, 1500))

        # 1. Run until everything so far is applied, then kill the task while it idles between batches.
        first = Recorder()
        task = asyncio.create_task(BatchConsumer(stack.bootstrap, group, [topic], pool, first, FAST).run())
        await wait_for(lambda: _equals(count_applied(pool), 1500))
        await stop(task)

        # 2. More arrives; the restarted consumer is killed inside its third batch's transaction.
        await produce(stack.bootstrap, topic, range(1500, 3000))
        second = Recorder()
        second.block_on_batch = 3
        task = asyncio.create_task(BatchConsumer(stack.bootstrap, group, [topic], pool, second, FAST).run())
        await asyncio.wait_for(second.entered_block.wait(), 30)
        await stop(task)
        assert await count_applied(pool) < 3000

        # 3. Next run loses its connection mid-batch once (rolled back and retried), then finishes.
        third = Recorder()
        third.kill_connection_on_batch = 2
        task = asyncio.create_task(BatchConsumer(stack.bootstrap, group, [topic], pool, third, FAST).run())
        await wait_for(lambda: _equals(count_applied(pool), 3000))
        await asyncio.sleep(0.5)  # nothing more may trickle in
        await stop(task)
        await assert_exactly_once(pool, 3000, topic)
    finally:
        await pool.close()


async def _equals(awaitable, expected) -> bool:
    return (await awaitable) == expected


async def test_seeks_to_offsets_stored_in_postgres_not_kafka(stack, fresh_db, topics, tmp_path):
    names = await topics(["in"], partitions=3)
    topic = names["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    group = f"g-{topic}"
    try:
        for p in range(3):
            await produce(stack.bootstrap, topic, range(p * 100, p * 100 + 20), partition=p)
        async with pool.acquire() as conn:  # partition 1 has no stored offset: from the beginning
            await save_offsets(conn, group, {TopicPartition(topic, 0): 5, TopicPartition(topic, 2): 12})
        # Kafka's committed offsets say something else; they must be ignored.
        kafka = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=group, enable_auto_commit=False)
        await kafka.start()
        try:
            kafka.assign([TopicPartition(topic, p) for p in range(3)])
            await kafka.commit({TopicPartition(topic, p): 18 for p in range(3)})
        finally:
            await kafka.stop()

        recorder = Recorder()
        task = asyncio.create_task(BatchConsumer(stack.bootstrap, group, [topic], pool, recorder, FAST).run())
        await wait_for(lambda: _equals(count_applied(pool), 15 + 20 + 8))
        await asyncio.sleep(0.3)
        await stop(task)
        rows = await pool.fetch('SELECT partition, min("offset") AS lo, max("offset") AS hi, count(*) AS n '
                                "FROM applied GROUP BY partition ORDER BY partition")
        assert [tuple(r) for r in rows] == [(0, 5, 19, 15), (1, 0, 19, 20), (2, 12, 19, 8)]
    finally:
        await pool.close()


class Deferring(Recorder):
    """Refuses the record `blocked_id` (its dependency "has not arrived") until `released`."""

    def __init__(self, blocked_id: str) -> None:
        super().__init__()
        self.blocked_id = blocked_id
        self.released = False
        self.deferrals = 0

    async def handle(self, conn, decoded, rejects):
        done, stops = {}, {}
        for tp, items in decoded.items():
            done[tp] = []
            for record, d in items:
                if not self.released and d.envelope.id == self.blocked_id:
                    stops[tp] = record.offset  # resume from here later
                    self.deferrals += 1
                    break
                done[tp].append((record, d))
        await super().handle(conn, done, rejects)
        return stops


async def per_partition(pool) -> dict[int, int]:
    return {r["partition"]: r["n"] for r in await pool.fetch(
        "SELECT partition, count(*) AS n FROM applied GROUP BY partition")}


async def test_handler_defers_a_partition_and_it_resumes_in_order(stack, fresh_db, topics, tmp_path):
    names = await topics(["in"], partitions=3)
    topic = names["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    try:
        for p in range(3):  # partition p holds events p*1000 .. p*1000+199 at offsets 0..199
            await produce(stack.bootstrap, topic, range(p * 1000, p * 1000 + 200), partition=p)
        handler = Deferring(blocked_id="evt-000050")  # partition 0, offset 50
        consumer = BatchConsumer(stack.bootstrap, f"g-{topic}", [topic], pool, handler, FAST)
        task = asyncio.create_task(consumer.run())
        # The other partitions flow while partition 0 waits at offset 50.
        await wait_for(lambda: _equals(per_partition(pool), {0: 50, 1: 200, 2: 200}))
        await asyncio.sleep(0.7)  # several deferral periods: retried, nothing applied twice
        assert await per_partition(pool) == {0: 50, 1: 200, 2: 200}
        assert handler.deferrals >= 2
        assert await pool.fetchval(
            "SELECT next_offset FROM consumer_offsets WHERE topic = $1 AND partition = 0", topic) == 50
        handler.released = True
        await wait_for(lambda: _equals(count_applied(pool), 600))
        await asyncio.sleep(0.3)
        await stop(task)
        await assert_exactly_once(pool, 600, topic)
        for p in range(3):  # applied in offset order within each partition
            offsets = [r["offset"] for r in await pool.fetch(
                'SELECT "offset" FROM applied WHERE partition = $1 ORDER BY seq', p)]
            assert offsets == list(range(200))
    finally:
        await pool.close()


WORKER = r"""
import asyncio, sys
import asyncpg
from careruntime.consumer import BatchConsumer, ConsumerSettings

bootstrap, dsn, topic, group = sys.argv[1:5]

class Slow:
    async def handle(self, conn, decoded, rejects):
        rows = [(d.envelope.id, r.topic, r.partition, r.offset) for items in decoded.values() for r, d in items]
        await conn.copy_records_to_table("applied", records=rows, columns=["event_id", "topic", "partition", "offset"])
        await asyncio.sleep(0.02)  # most of the time is spent inside the transaction: kills land there

async def main():
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    settings = ConsumerSettings(max_records=100, fetch_timeout_ms=100,
                                kafka_options={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500})
    consumer = BatchConsumer(bootstrap, group, [topic], pool, Slow(), settings)
    consumer.install_signal_handlers()
    await consumer.run()
    await pool.close()

asyncio.run(main())
"""


async def spawn_worker(*args: str) -> asyncio.subprocess.Process:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, *args, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


@pytest.mark.slow
async def test_sigkilled_worker_processes_restarted_apply_exactly_once_and_sigterm_stops_cleanly(
        stack, fresh_db, topics, tmp_path):
    names = await topics(["in"], partitions=3)
    topic = names["in"]
    dsn = await runtime_db(fresh_db, tmp_path)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    args = (stack.bootstrap, dsn, topic, f"g-{topic}")
    worker = None
    try:
        await produce(stack.bootstrap, topic, range(4000))
        for at_least in (800, 2000):
            worker = await spawn_worker(*args)
            await wait_for(lambda n=at_least: _at_least(count_applied(pool), n), timeout=60)
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
            assert await count_applied(pool) < 4000  # it really died mid-stream
        worker = await spawn_worker(*args)
        await wait_for(lambda: _equals(count_applied(pool), 4000), timeout=90)
        worker.send_signal(signal.SIGTERM)  # graceful: finishes the batch in hand, leaves the group
        assert await asyncio.wait_for(worker.wait(), 30) == 0
        await assert_exactly_once(pool, 4000, topic)
    finally:
        if worker is not None and worker.returncode is None:
            worker.kill()
            await worker.wait()
        await pool.close()


async def _at_least(awaitable, n) -> bool:
    return (await awaitable) >= n


async def test_rebalances_between_two_consumers_keep_exactly_once(stack, fresh_db, topics, tmp_path):
    names = await topics(["in"], partitions=4)
    topic = names["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    group = f"g-{topic}"
    settings = ConsumerSettings(max_records=50, fetch_timeout_ms=100, retry_backoff_s=0.05,
                                kafka_options={"session_timeout_ms": 6000, "heartbeat_interval_ms": 300})

    class SlowRecorder(Recorder):
        async def handle(self, conn, decoded, rejects):
            await super().handle(conn, decoded, rejects)
            await asyncio.sleep(0.01)  # batches in flight when the group rebalances

    feeding = asyncio.create_task(_feed(stack.bootstrap, topic, 3000, chunk=250))
    one, two = SlowRecorder(), SlowRecorder()
    first = BatchConsumer(stack.bootstrap, group, [topic], pool, one, settings)
    second = BatchConsumer(stack.bootstrap, group, [topic], pool, two, settings)
    t1 = asyncio.create_task(first.run())
    try:
        await wait_for(lambda: _at_least(count_applied(pool), 500))
        t2 = asyncio.create_task(second.run())  # joins: partitions move while batches are in flight
        await wait_for(lambda: _at_least(count_applied(pool), 1500))
        first.request_stop()  # leaves: its partitions move to the second consumer
        await asyncio.wait_for(t1, 30)
        await feeding
        await wait_for(lambda: _equals(count_applied(pool), 3000), timeout=60)
        await asyncio.sleep(0.5)
        second.request_stop()
        await asyncio.wait_for(t2, 30)
        assert one.batches > 0 and two.batches > 0
        await assert_exactly_once(pool, 3000, topic)
    finally:
        for task in (t1, feeding):
            if not task.done():
                await stop(task)
        await pool.close()


async def _feed(bootstrap: str, topic: str, total: int, chunk: int) -> None:
    for start in range(0, total, chunk):
        await produce(bootstrap, topic, range(start, start + chunk))
        await asyncio.sleep(0.1)


async def test_offsets_moved_by_another_owner_fence_the_batch_and_the_consumer_follows_them(
        stack, fresh_db, topics, tmp_path):
    topic = (await topics(["in"], partitions=1))["in"]
    pool = await plumbing_pool(fresh_db, tmp_path)
    group = f"g-{topic}"

    class Overtaken(Recorder):
        """While its first batch is open, "another consumer" commits offset 50 for the partition."""

        async def handle(self, conn, decoded, rejects):
            if self.batches == 0:
                async with pool.acquire() as other:
                    await save_offsets(other, group, {TopicPartition(topic, 0): 50})
            return await super().handle(conn, decoded, rejects)

    try:
        await produce(stack.bootstrap, topic, range(100), partition=0)
        handler = Overtaken()
        settings = ConsumerSettings(max_records=20, fetch_timeout_ms=100)
        task = asyncio.create_task(BatchConsumer(stack.bootstrap, group, [topic], pool, handler, settings).run())
        await wait_for(lambda: _equals(count_applied(pool), 50))
        await asyncio.sleep(0.3)
        await stop(task)
        offsets = [r["offset"] for r in await pool.fetch('SELECT "offset" FROM applied ORDER BY seq')]
        assert offsets == list(range(50, 100))  # the fenced batch 0..19 left no trace
        assert await pool.fetchval("SELECT next_offset FROM consumer_offsets") == 100
    finally:
        await pool.close()
