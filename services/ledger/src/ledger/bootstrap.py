"""Composition root of the ledger: builds pool, consumer, relay and health app from Settings."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from careruntime.consumer import BatchConsumer, ConsumerSettings
from careruntime.metrics import RuntimeMetrics
from careruntime.pool import open_pool, worker_pool
from careruntime.processes import ConsumerWorker
from careruntime.relay import OutboxRelay
from prometheus_client import CollectorRegistry

from .adapters.entries_relay import JournalSource
from .config import Settings
from .service.ingest import LedgerIngest


@dataclass
class Worker(ConsumerWorker):
    ingest: LedgerIngest


async def make_pool(settings: Settings, at_least: int = 1) -> asyncpg.Pool:
    return await open_pool(settings.database_url, max_size=max(settings.pool_size, at_least))


async def build_worker(settings: Settings) -> Worker:
    pool = await worker_pool(settings.database_url, max_size=settings.pool_size)
    registry = CollectorRegistry()
    ingest = LedgerIngest(entries_topic=settings.entries_topic, budget_topics=settings.budget_topics,
                          other_topics=settings.other_topics, max_defer_seconds=settings.max_defer_seconds,
                          checkpoint_interval_s=settings.checkpoint_interval_s,
                          order_patience_s=settings.order_patience_s,
                          processed_lookup=settings.processed_lookup, careful_s=settings.processed_lookup_careful_s,
                          processed_cache_max=settings.processed_cache_max)
    # Range assignment keeps partition N of every input topic on one worker: a budget's allocation and
    # payment events share a key, so they share a partition number and thus a worker's in-memory book.
    consumer = BatchConsumer(
        settings.kafka_bootstrap, settings.group_id, settings.input_topics, pool, ingest,
        ConsumerSettings(max_records=settings.max_records, deferred_retry_s=0.0,
                         max_held_records=settings.max_held_records, pipeline_depth=settings.pipeline_depth,
                         kafka_options={"partition_assignment_strategy": (RangePartitionAssignor,),
                                        "max_partition_fetch_bytes": settings.max_partition_fetch_bytes,
                                        "fetch_max_wait_ms": settings.fetch_max_wait_ms}),
        RuntimeMetrics(registry, namespace="ledger"))

    async def lag_of(tp) -> int | None:
        kafka = consumer.consumer
        high = kafka.highwater(tp) if kafka else None
        if high is None or tp not in kafka.assignment():
            return None
        return high - await kafka.position(tp)

    ingest.lag_of = lag_of
    ingest.assigned = lambda: consumer.consumer.assignment() if consumer.consumer else set()
    return Worker(pool, consumer, registry, ingest)


async def build_relay(settings: Settings) -> tuple[asyncpg.Pool, list[OutboxRelay], CollectorRegistry]:
    """Two relays in one process: entries from the journal itself, rejections from the outbox.

    Each leads on its own advisory lock and holds a pool connection for it, plus one per pass.
    """
    pool = await make_pool(settings, at_least=4)
    registry = CollectorRegistry()
    outbox = OutboxRelay(pool, settings.kafka_bootstrap, metrics=RuntimeMetrics(registry, namespace="ledger_relay"))
    entries = OutboxRelay(pool, settings.kafka_bootstrap, source=JournalSource(settings.entries_topic),
                          metrics=RuntimeMetrics(registry, namespace="ledger_entries_relay"))
    return pool, [entries, outbox], registry
