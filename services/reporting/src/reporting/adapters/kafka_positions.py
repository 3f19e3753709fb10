"""Where the consumable records of a topic end: the offset just past the last record a read_committed
consumer can see, per partition. The end offset alone is not enough: a transactional producer (the
ledger's relay) leaves a commit marker after its records, which occupies an offset but is never consumed."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from careruntime.kafka_security import client_options


async def consumable_ends(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """{partition: offset after its last visible record (0 when it has none)} for every partition of topics."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed",
                                **client_options())  # TLS/SASL from the environment, like every client
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        missing = [t for t in topics if not any(tp.topic == t for tp in tps)]
        if missing:
            raise LookupError(f"no such topic(s): {missing}")
        ends = await consumer.end_offsets(tps)
        result = {}
        for tp in tps:
            result[tp] = await _last_visible(consumer, tp, ends[tp]) if ends[tp] else 0
        return result
    finally:
        await consumer.stop()


async def _last_visible(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> int:
    consumer.assign([tp])
    window = 64
    while True:
        start = max(0, end - window)
        consumer.seek(tp, start)
        last = -1
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=500)
            for record in batch.get(tp, ()):
                last = max(last, record.offset)
            await asyncio.sleep(0)
        if last >= 0:
            return last + 1
        if start == 0:
            return 0
        window *= 16
