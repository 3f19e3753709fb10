"""The views' stream guard (entrypoints/views_guard.py) against the real broker, with faust's app stood in
for by a small fake (what the guard asks of it: the assignment, rebalancing/recovery flags, resume and
seek): it projects what faust left out before a record, skips what it projected, knows where faust was
to start a partition, and seeks a partition back when a record waits on it but never arrives."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from allocation.adapters.partition_reader import PartitionReader
from allocation.entrypoints.views_guard import StreamGuard

from .test_allocation_partition_reader import write_in_transactions

pytestmark = pytest.mark.integration


class FakeConsumer:
    def __init__(self, assigned):
        self.assigned, self.resumed, self.sought = set(assigned), [], []

    def assignment(self):
        return self.assigned

    def resume_partitions(self, tps):
        self.resumed += list(tps)

    async def seek(self, tp, offset):
        self.sought.append((tp, offset))


def guard_for(stack, topic, group, stall_s=0.2):
    tp = TopicPartition(topic, 0)
    app = SimpleNamespace(consumer=FakeConsumer([tp]), rebalancing=False, in_recovery=False)
    projected, counts = [], []

    def project(key, value, offset, applied="applied"):
        projected.append((offset, value, applied))
        return True

    guard = StreamGuard(app, topic, PartitionReader(stack.bootstrap, group_id=group), project, counts.append, stall_s)
    return guard, tp, app, projected, counts


async def test_admit_projects_what_faust_left_out_and_skips_what_it_projected(stack, topics):
    topic = (await topics("allocation.events.v1", partitions=1))["allocation.events.v1"]
    await write_in_transactions(stack.bootstrap, topic, [[b"a", b"b"], [b"c"], [b"d", b"e"]])  # 0 1 _ 3 _ 5 6
    guard, tp, _, projected, counts = guard_for(stack, topic, f"{topic}-views")
    try:
        assert await guard.admit(tp, 1)  # first since a rebalance, nothing committed: faust starts at 0
        assert projected == [(0, b"a", "hole_filled")]
        guard.projected(tp, 1)
        assert await guard.admit(tp, 5)  # 3 never came: read back; 2 and 4 are only markers
        assert projected[1:] == [(3, b"c", "hole_filled")]
        guard.projected(tp, 5)
        assert not await guard.admit(tp, 3) and counts == ["reread"]  # faust went back: already in the view
        assert await guard.admit(tp, 6) and len(projected) == 2
    finally:
        await guard.reader.stop()


async def test_the_first_record_is_compared_with_the_groups_committed_offset(stack, topics):
    topic = (await topics("allocation.events.v1", partitions=1))["allocation.events.v1"]
    await write_in_transactions(stack.bootstrap, topic, [[b"a", b"b", b"c", b"d"]])  # 0..3
    group = f"{topic}-views"
    member = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=group, enable_auto_commit=False)
    await member.start()
    member.assign([TopicPartition(topic, 0)])
    await member.commit({TopicPartition(topic, 0): 2})
    await member.stop()
    guard, tp, _, projected, _ = guard_for(stack, topic, group)
    try:
        assert await guard.admit(tp, 3)  # faust was to start at 2: 2 was left out, 0 and 1 were done
        assert projected == [(2, b"c", "hole_filled")]
    finally:
        await guard.reader.stop()


async def test_a_partition_whose_next_record_never_arrives_is_sought_back_then_reported(stack, topics):
    topic = (await topics("allocation.events.v1", partitions=1))["allocation.events.v1"]
    await write_in_transactions(stack.bootstrap, topic, [[b"a", b"b"], [b"c"]])  # 0 1 _ 3 _
    guard, tp, app, _, counts = guard_for(stack, topic, f"{topic}-views", stall_s=0.2)
    try:
        guard.projected(tp, 1)  # the agent got 0 and 1; 3 waits (2 is a marker)
        await guard.watch()
        assert app.consumer.sought == []  # the first look only notes the wait
        await asyncio.sleep(0.25)
        await guard.watch()
        assert app.consumer.sought == [(tp, 2)] and app.consumer.resumed == [tp] and "stall_restarted" in counts
        await guard.check()()  # not reported yet
        await asyncio.sleep(0.6)
        await guard.watch()
        with pytest.raises(RuntimeError, match="stalled at offset 3"):
            await guard.check()()
        guard.projected(tp, 3)  # once it arrives, nothing waits (4 is a marker)
        await guard.watch()
        assert tp not in guard.waiting
    finally:
        await guard.reader.stop()


async def test_no_record_waiting_is_no_stall_and_a_rebalance_pauses_the_watch(stack, topics):
    topic = (await topics("allocation.events.v1", partitions=1))["allocation.events.v1"]
    await write_in_transactions(stack.bootstrap, topic, [[b"a"], [b"b"]])  # 0 _ 2 _
    guard, tp, app, _, _ = guard_for(stack, topic, f"{topic}-views", stall_s=0.05)
    try:
        guard.projected(tp, 2)
        for _ in range(3):
            await guard.watch()
            await asyncio.sleep(0.06)
        assert app.consumer.sought == [] and guard.waiting == {}
        guard.projected(tp, 0)  # pretend only 0 was projected: 2 waits
        app.rebalancing = True
        await guard.watch()
        await asyncio.sleep(0.06)
        await guard.watch()
        assert app.consumer.sought == [] and guard.waiting == {}
    finally:
        await guard.reader.stop()
