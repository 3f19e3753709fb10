"""Prometheus metrics of the runtime plumbing: consumption, commits, rejects, dead letters, lag, relay.

Owns the metric names. Nothing is registered at import time: a process builds one CollectorRegistry
in its composition root and passes it to `RuntimeMetrics`, which the consumer, the relay and the
health app share. Tests build as many independent registries as they like.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Batch commits are milliseconds to seconds; the top buckets catch stalls.
_COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


_OFFSET = attrgetter("offset")


def committed_count(records: Sequence[Any], next_offset: int) -> int:
    """How many of a partition's records (in offset order, as fetched) lie below `next_offset`.

    A batch carries the records held back from earlier batches too, several times the records it commits
    when a partition waits for its partner: a binary search, not a pass over all of them."""
    return bisect_left(records, next_offset, key=_OFFSET)


class RuntimeMetrics:
    """The runtime's metrics, registered in `registry`. Names may take a `namespace` prefix."""

    def __init__(self, registry: CollectorRegistry, namespace: str = "") -> None:
        self.registry = registry
        kw = {"registry": registry, "namespace": namespace}
        self.consumed = Counter("consumed", "Records fetched from Kafka and handed to a batch.", ["topic"], **kw)
        self.committed = Counter(
            "committed", "Records whose offsets were committed in PostgreSQL.", ["topic"], **kw
        )
        self.rejected = Counter("rejected", "Records that could not be decoded, by reason code.", ["reason"], **kw)
        self.dlq = Counter("dlq", "Dead letters committed to the outbox, by reason code.", ["reason"], **kw)
        self.batch_failures = Counter(
            "batch_failures", "Batches rolled back and retried, by kind of failure.", ["kind"], **kw
        )
        self.consumer_lag = Gauge(
            "consumer_lag", "High watermark minus committed next offset.", ["topic", "partition"], **kw
        )
        self.batch_commit_seconds = Histogram(
            "batch_commit_seconds", "Time of one batch transaction, handler included.",
            buckets=_COMMIT_BUCKETS, **kw,
        )
        self.relay_published = Counter("relay_published", "Outbox rows published to Kafka.", ["topic"], **kw)
        self.outbox_oldest_age_seconds = Gauge(
            "outbox_oldest_age_seconds", "Age of the oldest outbox row the relay has seen waiting.", **kw
        )

    def batch_decoded(self, batch: Mapping[Any, Sequence[Any]], rejects: Mapping[Any, Sequence[Any]]) -> None:
        for tp, records in batch.items():
            self.consumed.labels(tp.topic).inc(len(records))
        for items in rejects.values():
            for _, err in items:
                self.rejected.labels(err.code).inc()

    def batch_committed(
        self, batch: Mapping[Any, Sequence[Any]], next_offsets: Mapping[Any, int], dead: Sequence[Any],
        seconds: float, highwater: Callable[[Any], int | None],
    ) -> None:
        """After a batch commit: records committed (up to each partition's stored offset), lag, DLQ."""
        self.batch_commit_seconds.observe(seconds)
        for tp, records in batch.items():
            self.committed.labels(tp.topic).inc(committed_count(records, next_offsets[tp]))
            high = highwater(tp)
            if high is not None:
                self.set_lag(tp.topic, tp.partition, max(high - next_offsets[tp], 0))
        for row in dead:
            self.dlq.labels(row.headers["dlq.reason"]).inc()

    def set_lag(self, topic: str, partition: int, lag: int) -> None:
        self.consumer_lag.labels(topic, str(partition)).set(lag)

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop a revoked partition's lag so dashboards do not show a frozen value."""
        try:
            self.consumer_lag.remove(topic, str(partition))
        except KeyError:
            pass


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in Prometheus text format, with its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


__all__ = ["RuntimeMetrics", "committed_count", "exposition"]
