"""Records too large to publish: no input makes a service write an outbox row Kafka refuses.

A producer may compress: the broker's size limit (message.max.bytes, ~1 MiB by default) applies to
the compressed batch, so a gzip-compressed command can carry many MiB of JSON. The relays publish
uncompressed; a row larger than the limit would fail every pass of its relay and hold back every
later row of that outbox. An invoice's lines are capped by the contract (careschemas MAX_LINES), so
one with more is dead-lettered as INVALID_PAYLOAD at the door, and a dead letter too large to
publish does not carry the original bytes whole (they stay at their source offset) and says so.
"""
from __future__ import annotations

import asyncio
import hashlib
from datetime import date

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from careruntime.codec import KAFKA_HEADERS
from careschemas.topics import DLQ_OFFSET_HEADER, DLQ_REASON_HEADER, DLQ_TRUNCATED_HEADER
from caretools import localstack

from tests.integration.payments_harness import (
    ALLOCATION, COMMANDS, EVENTS, command, deployment, read_events, read_records, send, wire,
)
from tests.integration.test_payments_bad_input import GOOD, LINE, PR1_PB1_SO1

pytestmark = pytest.mark.integration

MANY = 12_000  # lines: ~1.5 MB of JSON, ~100 KB once gzip-compressed


def big_invoice(command_id: str, invoice_id: str, lines: int) -> tuple[bytes, bytes]:
    """A ReceiveInvoice of `lines` lines (written as JSON: past MAX_LINES the contract refuses it)."""
    key, value = command("invoices.ReceiveInvoice", command_id, invoice_id=invoice_id, provider_id="PR-1",
                         invoice_number=f"N-{invoice_id}", invoice_date=date(2026, 4, 20), lines=[LINE])
    doc = orjson.loads(value)
    line = doc["data"]["lines"][0]
    doc["data"]["lines"] = [{**line, "line_no": n, "units": 1} for n in range(1, lines + 1)]
    return key, orjson.dumps(doc)


async def send_gzipped(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]],
                       headers: list[tuple[str, bytes]] = KAFKA_HEADERS) -> None:
    """As a producer that compresses its batches sends them (its own size check is on the raw record)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                compression_type="gzip", max_request_size=64 * 1024 * 1024)
    await producer.start()
    try:
        for key, value in messages:
            await (await producer.send(topic, value, key=key, headers=headers))
    finally:
        await producer.stop()


async def outbox_empties(pool, timeout_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while await pool.fetchval("SELECT count(*) FROM outbox"):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def test_a_compressed_command_too_large_to_repeat_uncompressed_stalls_no_outbox(stack, fresh_db, topics,
                                                                                       tmp_path):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    try:
        await dep.start_payments()
        await send(stack.bootstrap, dep.names[ALLOCATION], PR1_PB1_SO1)
        await dep.payments_settled()
        big = big_invoice("c-big", "I-BIG", MANY)
        junk = (b"PR-1", b"[" + b"0," * 2_000_000 + b"]")  # ~4 MB that is no envelope
        assert len(big[1]) > 1024 * 1024
        await send_gzipped(stack.bootstrap, dep.names[COMMANDS], [big, junk])
        # jsonb (the outbox's headers) refuses NUL: a content-type carrying one must not fail the batch
        await send_gzipped(stack.bootstrap, dep.names[COMMANDS], [(b"PR-1", b"{oops")],
                           headers=[("content-type", b"application/json\x00")])
        await send(stack.bootstrap, dep.names[COMMANDS], [GOOD])
        targets = await localstack.record_ends(stack.bootstrap, [dep.names[COMMANDS]])
        await localstack.wait_consumed(dep.payments_dsn, dep.group, targets, 60, outbox_empty=False)
        pool = await dep.pool()
        assert await outbox_empties(pool, 30), "the relay is stuck behind a row Kafka refuses"

        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        assert [e.type for e in events if e.causationid == "c-good"] == [
            "invoices.InvoiceReceived.v1", "invoices.InvoiceMatched.v1"]
        assert not [e for e in events if e.causationid == "c-big"]
        dead = await read_records(stack.bootstrap, dep.names[COMMANDS] + ".dlq")
        reasons = {int(dict(r.headers)[DLQ_OFFSET_HEADER]): dict(r.headers)[DLQ_REASON_HEADER] for r in dead}
        assert reasons == {0: b"INVALID_PAYLOAD", 1: b"MALFORMED_JSON", 2: b"MALFORMED_JSON"}
        for record in dead[:2]:  # the two too large to carry whole: cut, and said so with the original's digest
            headers = dict(record.headers)
            original = (big, junk)[int(headers[DLQ_OFFSET_HEADER])][1]
            assert original.startswith(record.value) and len(record.value) < len(original)
            assert hashlib.sha256(original).hexdigest().encode() in headers[DLQ_TRUNCATED_HEADER], headers
        assert dead[2].value == b"{oops" and b"\x00" not in dict(dead[2].headers)["content-type"]
    finally:
        await dep.stop()


async def test_the_ledger_reads_past_a_record_larger_than_its_partition_fetch(stack, fresh_db, topics, tmp_path):
    """The ledger fetches 512 KiB per partition; a record of ~900 KB still comes whole (a fetch returns at
    least the first batch of a partition), is dead-lettered (too many lines; cut to what a dead letter keeps), and the partition goes on."""
    dep = await deployment(stack, fresh_db, topics, tmp_path, partitions=1)
    try:
        await dep.start_ledger()
        key, value = wire_approved("e-big")
        doc = orjson.loads(value)
        line = doc["data"]["lines"][0]
        doc["data"]["lines"] = [{**line, "line_no": n} for n in range(1, 7_001)]
        big = orjson.dumps(doc)
        assert 512 * 1024 < len(big) < 1024 * 1024
        await send(stack.bootstrap, dep.names[EVENTS], [(key, big), wire_approved("e-after")])
        await dep.ledger_settled(timeout_s=60)
        dead = await read_records(stack.bootstrap, dep.names[EVENTS] + ".dlq")
        assert [dict(r.headers)[DLQ_REASON_HEADER] for r in dead] == [b"INVALID_PAYLOAD"]
        # more than a dead letter keeps whole (DLQ_MAX_KEPT_BYTES): cut, with the original's digest
        assert big.startswith(dead[0].value) and len(dead[0].value) < len(big)
        assert hashlib.sha256(big).hexdigest().encode() in dict(dead[0].headers)[DLQ_TRUNCATED_HEADER]
    finally:
        await dep.stop()


def wire_approved(event_id: str) -> tuple[bytes, bytes]:
    return wire("invoices.InvoiceApproved.v1", event_id, invoice_id=f"I-{event_id}", provider_id="PR-1",
                approved_by="finance.a", lines=[LINE])
