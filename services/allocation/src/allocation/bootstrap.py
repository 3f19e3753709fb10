"""Composition root of the allocation service: builds pool, consumer, relay and health app from Settings."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from careruntime.consumer import BatchConsumer, ConsumerSettings
from careruntime.metrics import RuntimeMetrics
from careruntime.pool import open_pool
from careruntime.processes import ConsumerWorker
from careruntime.relay import OutboxRelay
from prometheus_client import CollectorRegistry

from .config import Settings
from .service.ingest import AllocationIngest, IngestMetrics


@dataclass
class Worker(ConsumerWorker):
    ingest: AllocationIngest


async def make_pool(settings: Settings) -> asyncpg.Pool:
    return await open_pool(settings.database_url, max_size=settings.pool_size)


def make_worker(settings: Settings, pool: asyncpg.Pool, consumer_settings: ConsumerSettings | None = None) -> Worker:
    registry = CollectorRegistry()
    ingest = AllocationIngest(events_topic=settings.events_topic, group_id=settings.group_id,
                              metrics=IngestMetrics(registry))
    consumer = BatchConsumer(
        settings.kafka_bootstrap, settings.group_id, [settings.commands_topic], pool, ingest,
        consumer_settings or ConsumerSettings(max_records=settings.max_records),
        RuntimeMetrics(registry, namespace="allocation"))
    return Worker(pool, consumer, registry, ingest)


async def build_worker(settings: Settings) -> Worker:
    return make_worker(settings, await make_pool(settings))


def make_relay(settings: Settings, pool: asyncpg.Pool, **options) -> tuple[OutboxRelay, CollectorRegistry]:
    registry = CollectorRegistry()
    relay = OutboxRelay(pool, settings.kafka_bootstrap, metrics=RuntimeMetrics(registry, namespace="allocation_relay"),
                        **options)
    return relay, registry


async def build_relay(settings: Settings) -> tuple[asyncpg.Pool, OutboxRelay, CollectorRegistry]:
    pool = await make_pool(settings)
    relay, registry = make_relay(settings, pool)
    return pool, relay, registry
