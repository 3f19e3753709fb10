"""The consumer's pure decisions: which offset to store per partition after a batch."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiokafka.structs import TopicPartition

from careruntime.consumer import TRANSIENT_ERRORS, _next_offsets

A, B = TopicPartition("in", 0), TopicPartition("in", 1)


def recs(*offsets):
    return [SimpleNamespace(offset=o) for o in offsets]


def test_next_offset_is_past_the_last_record():
    assert _next_offsets({A: recs(10, 11, 14), B: recs(0)}, {}) == {A: 15, B: 1}


def test_handler_can_stop_a_partition_part_way():
    assert _next_offsets({A: recs(10, 11, 12), B: recs(5, 6)}, {A: 11}) == {A: 11, B: 7}
    assert _next_offsets({A: recs(10, 11)}, {A: 10}) == {A: 10}  # nothing done on A
    assert _next_offsets({A: recs(10, 11)}, {A: 12}) == {A: 12}  # "stopped" after everything


@pytest.mark.parametrize("stop", [9, 14])
def test_stop_outside_the_batch_is_a_handler_bug(stop):
    with pytest.raises(ValueError):
        _next_offsets({A: recs(10, 11, 12)}, {A: stop})


def test_stops_for_partitions_not_in_the_batch_are_ignored():
    assert _next_offsets({A: recs(3)}, {B: 0}) == {A: 4}


def test_connection_and_serialization_failures_are_transient():
    import asyncpg

    for exc in (ConnectionResetError(), asyncpg.exceptions.SerializationError(), asyncpg.InterfaceError("closed"),
                asyncpg.exceptions.DeadlockDetectedError(), asyncpg.exceptions.AdminShutdownError()):
        assert isinstance(exc, TRANSIENT_ERRORS), exc
    assert not isinstance(ValueError(), TRANSIENT_ERRORS)


def test_records_are_taken_only_from_ready_partitions_and_never_below_the_stored_offset():
    from careruntime.consumer import BatchConsumer

    consumer = BatchConsumer("127.0.0.1:1", "g", ["in"], pool=None, handler=None)
    C = TopicPartition("in", 2)
    consumer._stored = {A: 10, B: None}  # C is assigned but its offsets are not loaded yet
    taken = consumer._owned_records({A: recs(8, 9, 10, 11), B: recs(0, 1), C: recs(5)})
    assert {tp: [r.offset for r in rs] for tp, rs in taken.items()} == {A: [10, 11], B: [0, 1]}
    assert consumer._owned_records({A: recs(7, 8)}) == {}


async def test_a_database_lost_while_a_batch_is_prepared_is_a_transient_failure_logged_as_a_warning():
    """A pipelining handler's prepare reads PostgreSQL: while it is down (a failover, a restart) the batch is a
    transient failure like a lost connection in its write, not an `error` (which pages as a bug would)."""
    from careruntime.consumer import BatchConsumer
    from careruntime.metrics import RuntimeMetrics
    from prometheus_client import CollectorRegistry
    from structlog.testing import capture_logs

    class Handler:
        async def prepare(self, pool, decoded, rejects):
            raise ConnectionRefusedError(111, "Connection refused")

    metrics = RuntimeMetrics(CollectorRegistry(), namespace="t")
    consumer = BatchConsumer("127.0.0.1:1", "g", ["in"], pool=None, handler=Handler(), metrics=metrics)
    with capture_logs() as logs:
        assert await consumer._process({}) == "failed"
    assert [(e["log_level"], e["kind"]) for e in logs if e["event"] == "batch preparation failed; will retry"] == [
        ("warning", "transient")]
    assert metrics.batch_failures.labels("transient")._value.get() == 1
