"""Composition root of the payments service: builds pool, consumer, relay, bank settings and health
app from Settings. Nothing else constructs these."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg
from careruntime.consumer import BatchConsumer, ConsumerSettings
from careruntime.health import health_app, postgres_check
from careruntime.metrics import RuntimeMetrics
from careruntime.pool import open_pool
from careruntime.processes import ConsumerWorker
from careruntime.relay import OutboxRelay
from prometheus_client import CollectorRegistry

from .config import Settings
from .formats import Originator
from .service.context import BankSettings
from .service.ingest import IngestMetrics, PaymentsIngest
from .service.timer import TimerMetrics, run_timer


@dataclass
class Worker(ConsumerWorker):
    ingest: PaymentsIngest


def bank_settings(settings: Settings) -> BankSettings:
    originator = Originator(name=settings.originator_name, sort_code=settings.originator_sort_code,
                            account_number=settings.originator_account_number,
                            service_user_number=settings.originator_service_user_number,
                            iban=settings.originator_iban, bic=settings.originator_bic)
    bank = BankSettings(out_dir=settings.out_dir, originator=originator, directory_path=settings.bank_directory)
    bank.warm()
    return bank


def business_clock(settings: Settings):
    """The timer's clock: the configured business date, or today."""
    return (lambda: settings.business_date) if settings.business_date else date.today


@dataclass
class Timer:
    """The due-date timer process: its pool, business clock, metrics and health app."""

    pool: asyncpg.Pool
    settings: Settings
    metrics: TimerMetrics
    registry: CollectorRegistry

    def health(self):
        return health_app({"postgres": postgres_check(self.pool)}, self.registry)

    async def run(self, stop) -> None:
        await run_timer(self.pool, business_clock(self.settings), self.settings.timer_interval_s, stop, self.metrics)


def make_timer(settings: Settings, pool: asyncpg.Pool) -> Timer:
    registry = CollectorRegistry()
    return Timer(pool, settings, TimerMetrics(registry), registry)


async def make_pool(settings: Settings) -> asyncpg.Pool:
    return await open_pool(settings.database_url, max_size=settings.pool_size)


def make_worker(settings: Settings, pool: asyncpg.Pool, consumer_settings: ConsumerSettings | None = None) -> Worker:
    registry = CollectorRegistry()
    ingest = PaymentsIngest(allocation_topic=settings.allocation_events_topic, events_topic=settings.events_topic,
                            bank=bank_settings(settings), group_id=settings.group_id, metrics=IngestMetrics(registry),
                            max_defer_s=settings.max_defer_s, commands_topic=settings.commands_topic,
                            run_part_size=settings.run_part_size)
    consumer = BatchConsumer(
        settings.kafka_bootstrap, settings.group_id, [settings.allocation_events_topic, settings.commands_topic],
        pool, ingest, consumer_settings or ConsumerSettings(max_records=settings.max_records),
        RuntimeMetrics(registry, namespace="payments"))

    async def allocation_lag() -> int:
        """Records of the allocation topic's assigned partitions not fetched yet (unknown: 1)."""
        kafka = consumer.consumer
        if kafka is None:
            return 1
        lag = 0
        for tp in kafka.assignment():
            if tp.topic == settings.allocation_events_topic:
                high = kafka.highwater(tp)
                lag += 1 if high is None else max(0, high - await kafka.position(tp))
        return lag

    ingest.allocation_lag = allocation_lag
    return Worker(pool, consumer, registry, ingest)


async def build_worker(settings: Settings) -> Worker:
    return make_worker(settings, await make_pool(settings))


def make_relay(settings: Settings, pool: asyncpg.Pool, **options) -> tuple[OutboxRelay, CollectorRegistry]:
    registry = CollectorRegistry()
    relay = OutboxRelay(pool, settings.kafka_bootstrap, metrics=RuntimeMetrics(registry, namespace="payments_relay"),
                        **options)
    return relay, registry


async def build_relay(settings: Settings) -> tuple[asyncpg.Pool, OutboxRelay, CollectorRegistry]:
    pool = await make_pool(settings)
    relay, registry = make_relay(settings, pool)
    return pool, relay, registry
