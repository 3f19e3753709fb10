"""Composition root of the reporting service: builds the pool, the projection consumer and its health app."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from careruntime.consumer import BatchConsumer, ConsumerSettings
from careruntime.metrics import RuntimeMetrics
from careruntime.pool import open_pool
from careruntime.processes import ConsumerWorker
from prometheus_client import CollectorRegistry

from .config import Settings
from .service.project import ProjectionHandler


@dataclass
class Worker(ConsumerWorker):
    handler: ProjectionHandler


async def make_pool(settings: Settings) -> asyncpg.Pool:
    return await open_pool(settings.database_url, max_size=settings.pool_size)


def make_worker(settings: Settings, pool: asyncpg.Pool) -> Worker:
    registry = CollectorRegistry()
    handler = ProjectionHandler(settings.entries_topic)
    consumer = BatchConsumer(settings.kafka_bootstrap, settings.group_id, settings.topics, pool, handler,
                             ConsumerSettings(max_records=settings.max_records),
                             RuntimeMetrics(registry, namespace="reporting"))
    return Worker(pool, consumer, registry, handler)


async def build_worker(settings: Settings) -> Worker:
    return make_worker(settings, await make_pool(settings))
