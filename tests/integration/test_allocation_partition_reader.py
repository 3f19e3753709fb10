"""The views' partition reader (adapters/partition_reader.py) against the real broker: between two offsets
of a partition written by a transactional producer, as the relay writes, it returns exactly the records
there, in order, and nothing for a span that holds only transaction markers; and it tells the views'
group's committed offset of a partition without joining the group or committing."""
from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from allocation.adapters.partition_reader import PartitionReader

pytestmark = pytest.mark.integration


async def write_in_transactions(bootstrap: str, topic: str, batches: list[list[bytes]]) -> list[int]:
    """Each batch in its own transaction (a marker follows each); the offsets of the records written."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic}-writer", enable_idempotence=True)
    await producer.start()
    offsets = []
    try:
        for batch in batches:
            async with producer.transaction():
                for value in batch:
                    sent = await producer.send_and_wait(topic, value, key=b"PB-1", partition=0)
                    offsets.append(sent.offset)
    finally:
        await producer.stop()
    return offsets


async def test_between_two_offsets_it_returns_the_records_there_and_skips_the_markers(stack, topics):
    topic = (await topics("allocation.events.v1", partitions=1))["allocation.events.v1"]
    offsets = await write_in_transactions(stack.bootstrap, topic, [[b"a", b"b"], [b"c"], [b"d", b"e"]])
    assert offsets == [0, 1, 3, 5, 6]  # a marker at 2 and at 4
    reader = PartitionReader(stack.bootstrap)
    try:
        assert [r.value for r in await reader.between(topic, 0, 1, 6)] == [b"b", b"c", b"d"]
        assert [r.offset for r in await reader.between(topic, 0, 0, 7)] == [0, 1, 3, 5, 6]
        assert await reader.between(topic, 0, 2, 3) == []  # only a marker: a jump from 1 to 3
        assert await reader.between(topic, 0, 4, 4) == []
        assert [r.value for r in await reader.between(topic, 0, 4, 6)] == [b"d"]
    finally:
        await reader.stop()


async def test_committed_is_the_groups_offset_and_asking_never_joins_or_commits(stack, topics):
    topic = (await topics("allocation.events.v1", partitions=1))["allocation.events.v1"]
    await write_in_transactions(stack.bootstrap, topic, [[b"a", b"b", b"c"]])
    group = f"{topic}-views"
    reader = PartitionReader(stack.bootstrap, group_id=group)
    member = AIOKafkaConsumer(topic, bootstrap_servers=stack.bootstrap, group_id=group, enable_auto_commit=False,
                              auto_offset_reset="earliest")
    try:
        assert await reader.committed(topic, 0) is None  # nothing committed yet: faust starts at the earliest,
        assert await reader.beginning(topic, 0) == 0  # the partition's first offset
        await member.start()
        await member.getmany(timeout_ms=5000)
        await member.commit({TopicPartition(topic, 0): 2})
        assert await reader.committed(topic, 0) == 2
        assert [r.value for r in await reader.between(topic, 0, 2, 4)] == [b"c"]  # reading moves nothing
        assert await reader.committed(topic, 0) == 2
        assert await member.committed(TopicPartition(topic, 0)) == 2
    finally:
        await member.stop()
        await reader.stop()
