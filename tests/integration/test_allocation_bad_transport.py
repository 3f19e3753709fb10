"""Bad records whose trouble is in the transport, not the JSON: what the allocation worker copies of a
bad record into its dead letter must be something PostgreSQL can store and Kafka can carry, or the dead
letter itself fails its batch (or the relay's pass) on every retry and stalls everything behind it.

Before careruntime.dlq bounded what it copies, each of these stalled: a content-type header with a NUL
failed the batch's COPY into the outbox (jsonb: "\\u0000 cannot be converted to text") and the partition
never moved; a bad record of about 1 MiB, or a gzip batch of one that decompressed to 8 MiB, was dead
lettered whole and the relay's every pass failed (MessageSizeTooLargeError), so no event of the
database was published again.
"""
from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer
from careruntime.codec import CONTENT_TYPE_HEADER, decode
from careschemas.topics import DLQ_MAX_KEPT_BYTES

from .test_allocation_bad_input import AGREE
from .test_allocation_flow import allocation, command, read_all  # noqa: F401

pytestmark = pytest.mark.integration


async def send_with_headers(bootstrap: str, topic: str, messages, **producer_options) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **producer_options)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def test_a_content_type_header_with_a_nul_does_not_stall_the_partition(allocation):  # noqa: F811
    settings, pool, start = allocation
    service = start()
    bad = (b"PB-1", b"not json", [(CONTENT_TYPE_HEADER, b"application/json\x00")])
    good_key, good_value = command("AgreePersonalBudget", "good-1", budget_id="PB-1", **AGREE)
    await send_with_headers(settings.kafka_bootstrap, settings.commands_topic,
                            [bad, (good_key, good_value, [(CONTENT_TYPE_HEADER, b"application/json")])])
    await service.drained()  # fails after 60 s if the bad record stalls its partition
    outcomes = await pool.fetch("SELECT command_id, outcome FROM processed_commands")
    assert [(r["command_id"], r["outcome"]) for r in outcomes] == [("good-1", "accepted")]
    dead = await read_all(settings.kafka_bootstrap, settings.commands_topic + ".dlq")
    assert [r.value for r in dead] == [b"not json"]
    assert dict(dead[0].headers)["dlq.reason"] == b"MALFORMED_JSON"
    assert dict(dead[0].headers)[CONTENT_TYPE_HEADER] == b"application/json\\0"


@pytest.mark.parametrize("size, compression", [(1_048_576 - 100, None), (8 * 1_048_576, "gzip")])
async def test_a_large_bad_record_does_not_stall_the_relay(allocation, size, compression):  # noqa: F811
    settings, pool, start = allocation
    service = start()
    big = b"{" + b" " * (size - 2) + b"}"  # invalid (no envelope fields)
    good_key, good_value = command("AgreePersonalBudget", "good-2", budget_id="PB-2", **AGREE)
    await send_with_headers(settings.kafka_bootstrap, settings.commands_topic,
                            [(b"PB-2", big, []), (good_key, good_value, [])],
                            compression_type=compression, max_request_size=size + 1000)
    await service.drained()  # fails after 60 s if the outbox never empties (relay: MessageSizeTooLargeError)
    dead = await read_all(settings.kafka_bootstrap, settings.commands_topic + ".dlq")
    assert len(dead) == 1 and dict(dead[0].headers)["dlq.reason"] == b"INVALID_ENVELOPE"
    assert big.startswith(dead[0].value) and len(dead[0].value) == DLQ_MAX_KEPT_BYTES - len(b"PB-2")
    assert f"value {size} bytes".encode() in dict(dead[0].headers)["dlq.truncated"]
    published = [decode(r.value).envelope.id for r in await read_all(settings.kafka_bootstrap, settings.events_topic)]
    assert published == ["good-2.e1"]
