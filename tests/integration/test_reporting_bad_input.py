"""Bad input through the real broker and database into `python -m reporting worker`: records whose envelope
`time` the projection could not store never stop the partition they arrive on. A good record sent after
them on the same partition is still projected.

A time within hours of the calendar's ends, once shifted to UTC for PostgreSQL's timestamptz
(0001-01-01T00:00:00+01:00, 9999-12-31T23:30:00-01:00, or 0001-01-01T00:00:00 with no offset, which Python
shifts as local time), cannot be written by asyncpg (OverflowError / ValueError): before the fix each such
record failed its batch on every retry and the worker projected nothing behind it. The envelope contract now
refuses a time without an offset or outside 0001-01-02..9999-12-30 in UTC (INVALID_ENVELOPE), so each of
them is a dead letter here as in every consumer.
"""
from __future__ import annotations

import asyncio
import uuid

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from careschemas.examples import example_payload
from reporting.config import MIGRATIONS_DIR, Settings

from .reporting_harness import ReportingWorker

pytestmark = pytest.mark.integration

COUNCIL = "C-BAD"
PROVIDER = "allocation.ProviderRegistered.v1"
REJECTED = "ledger.PostingRejected.v1"
# label -> the envelope `time` as sent: each is refused by the contract (INVALID_ENVELOPE)
EDGE_TIMES = {
    "year 1 with a positive offset": "0001-01-01T00:00:00+01:00",
    "year 1 without an offset": "0001-01-01T00:00:00",
    "9999-12-31 with a negative offset": "9999-12-31T23:30:00-01:00",
    "an ordinary time without an offset": "2026-04-01T09:00:00",
}


def record(type_name: str, event_id: str, time: str, **data) -> bytes:
    """An envelope sent as given (its time as written here), carrying the type's example payload."""
    return orjson.dumps({
        "specversion": "1.0", "id": event_id, "source": "urn:test", "type": type_name, "subject": event_id,
        "councilid": COUNCIL, "correlationid": f"conv-{event_id}", "time": time,
        "datacontenttype": "application/json", "data": {**example_payload(type_name), **data}})


async def wait_for_rows(dsn: str, sql: str, want: int, worker: ReportingWorker, timeout_s: float = 60) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (have := await conn.fetchval(sql)) != want:
            if worker.proc.poll() is not None:
                raise AssertionError(f"reporting worker exited: {worker.log_path.read_text()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                log = worker.log_path.read_text()[-2000:]
                raise AssertionError(f"partition stalled: {have} of {want} rows after {timeout_s}s\n{log}")
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def test_envelope_times_at_the_calendar_edges_never_stall_the_worker(stack, topics, fresh_db, tmp_path):
    names = await topics(["entries", "allocation", "payments"], partitions=1)
    dsn = await fresh_db("reporting", MIGRATIONS_DIR)
    settings = Settings(kafka_bootstrap=stack.bootstrap, database_url=dsn, entries_topic=names["entries"],
                        domain_topics=[names["allocation"], names["payments"]],
                        group_id=f"reporting-bad-{uuid.uuid4().hex[:8]}", max_records=1)
    domain = [(f"E-{i}", time) for i, time in enumerate(EDGE_TIMES.values())] + [("E-good", "2026-04-01T09:00:00Z")]
    rejections = [(f"R-{i}", time) for i, time in enumerate(EDGE_TIMES.values())] + [("R-good", "2026-04-01T09:00:00Z")]
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        for event_id, time in domain:
            await producer.send_and_wait(names["allocation"], record(PROVIDER, event_id, time), key=b"P-1")
        for event_id, time in rejections:
            await producer.send_and_wait(names["entries"], record(REJECTED, event_id, time), key=b"shard-1")
    finally:
        await producer.stop()

    worker = ReportingWorker(settings, tmp_path / "reporting-worker.log")
    worker.start()
    try:
        # The good record after the bad ones is there only if nothing before it stalled the partition.
        await wait_for_rows(dsn, "SELECT count(*) FROM rp_domain_events WHERE event_id = 'E-good'", 1, worker)
        await wait_for_rows(dsn, "SELECT count(*) FROM rp_rejections WHERE rejection_id = 'R-good'", 1, worker)
    finally:
        worker.stop()
    conn = await asyncpg.connect(dsn, server_settings={"TimeZone": "UTC"})
    try:
        kept = dict(await conn.fetch("SELECT event_id, recorded_at::text FROM rp_domain_events"))
        refused = dict(await conn.fetch("SELECT rejection_id, recorded_at::text FROM rp_rejections"))
        dead = await conn.fetch("SELECT headers->>'dlq.reason' AS reason, headers->>'dlq.source.offset' AS offset "
                                "FROM outbox ORDER BY topic, (headers->>'dlq.source.offset')::int")
    finally:
        await conn.close()
    assert kept == {"E-good": "2026-04-01 09:00:00+00"}
    assert refused == {"R-good": "2026-04-01 09:00:00+00"}
    # each bad record is a dead letter (in the outbox, with its reason), one per topic and offset
    assert [(r["reason"], r["offset"]) for r in dead] == [("INVALID_ENVELOPE", str(n)) for n in range(len(EDGE_TIMES))] * 2
