"""Undecodable records go to `<topic>.dlq` (through the outbox and the relay) with the reason in
headers, unchanged, and the consumer keeps going past them."""
from __future__ import annotations

import asyncio

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from careschemas.examples import example_envelope
from prometheus_client import CollectorRegistry

from careruntime.consumer import BatchConsumer, ConsumerSettings
from careruntime.metrics import RuntimeMetrics, exposition
from careruntime.relay import OutboxRelay

pytestmark = pytest.mark.integration

TYPE = "allocation.PersonalBudgetRevised.v1"
MIGRATIONS = {
    "0001_plumbing.py": (
        "from yoyo import step\n"
        "from careruntime.sql import PLUMBING_ROLLBACK_SQL, PLUMBING_SQL\n"
        "steps = [step(PLUMBING_SQL, PLUMBING_ROLLBACK_SQL)]\n"
    ),
    "0002_applied.sql": "CREATE TABLE applied (event_id text PRIMARY KEY, \"offset\" bigint NOT NULL)",
}


def good(n: int) -> bytes:
    doc = example_envelope(TYPE)
    doc["id"] = f"ok-{n}"
    return orjson.dumps(doc)


def bad_values() -> dict[str, bytes | None]:
    no_id = example_envelope(TYPE)
    del no_id["id"]
    unknown = dict(example_envelope(TYPE), id="bad-unknown", type="allocation.SomethingElse.v1")
    invalid = example_envelope(TYPE)
    invalid.update(id="bad-payload")
    invalid["data"]["amount_pence"] = -5
    return {
        "MALFORMED_JSON": b"{this is not json",
        "MALFORMED_JSON/array": b"[1, 2, 3]",
        "MALFORMED_JSON/tombstone": None,
        "INVALID_ENVELOPE": orjson.dumps(no_id),
        "UNKNOWN_TYPE": orjson.dumps(unknown),
        "INVALID_PAYLOAD": orjson.dumps(invalid),
    }


class Apply:
    async def handle(self, conn, decoded, rejects):
        rows = [(d.envelope.id, r.offset) for items in decoded.values() for r, d in items]
        await conn.executemany("INSERT INTO applied VALUES ($1, $2)", rows)


async def test_bad_records_land_on_the_dlq_with_reasons_and_the_consumer_keeps_going(
        stack, fresh_db, topics, tmp_path):
    names = await topics(["in", "in.dlq"], partitions=1)
    topic, dlq = names["in"], names["in.dlq"]
    assert dlq == topic + ".dlq"
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, text in MIGRATIONS.items():
        (folder / name).write_text(text)
    pool = await asyncpg.create_pool(await fresh_db("runtime", migrations_dir=folder), min_size=1, max_size=4)

    # good, bad, good, bad, ... so that every bad record sits between records that must be applied.
    bad = bad_values()
    sent: list[tuple[str, bytes | None]] = []
    for i, (label, value) in enumerate(bad.items()):
        sent += [("good", good(i)), (label, value)]
    sent.append(("good", good(99)))
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        for i, (_, value) in enumerate(sent):
            await producer.send_and_wait(topic, value, key=f"k{i}".encode())
    finally:
        await producer.stop()

    registry = CollectorRegistry()
    metrics = RuntimeMetrics(registry)
    consumer = BatchConsumer(stack.bootstrap, f"g-{topic}", [topic], pool, Apply(),
                             ConsumerSettings(max_records=4, fetch_timeout_ms=100), metrics=metrics)
    relay = OutboxRelay(pool, stack.bootstrap, poll_interval_s=0.05, metrics=metrics)
    tasks = [asyncio.create_task(consumer.run()), asyncio.create_task(relay.run())]
    try:
        dead = await read(stack.bootstrap, dlq, expected=len(bad))
        goods = [i for i, (label, _) in enumerate(sent) if label == "good"]
        for _ in range(100):
            if await pool.fetchval("SELECT count(*) FROM applied") == len(goods):
                break
            await asyncio.sleep(0.05)
        applied = sorted(r["offset"] for r in await pool.fetch('SELECT "offset" FROM applied'))
        assert applied == goods
        assert await pool.fetchval("SELECT next_offset FROM consumer_offsets") == len(sent)
    finally:
        consumer.request_stop()
        relay.request_stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)
        await pool.close()

    assert len(dead) == len(bad)
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        offset = int(headers["dlq.source.offset"])
        label, value = sent[offset]
        assert headers["dlq.reason"] == label.split("/")[0]
        assert headers["dlq.detail"]
        assert headers["dlq.source.topic"] == topic
        assert headers["dlq.source.partition"] == "0"
        assert headers["dlq.group"] == f"g-{topic}"
        assert "dlq.failed_at" in headers
        assert record.key == f"k{offset}".encode() and record.value == value  # unchanged bytes
    text = exposition(registry)[0].decode()
    assert 'dlq_total{reason="MALFORMED_JSON"} 3.0' in text
    assert 'rejected_total{reason="INVALID_PAYLOAD"} 1.0' in text
    assert f'committed_total{{topic="{topic}"}} {float(len(sent))}' in text


async def read(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                isolation_level="read_committed")
    await consumer.start()
    got: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                got.extend(records)
    finally:
        await consumer.stop()
    return got
