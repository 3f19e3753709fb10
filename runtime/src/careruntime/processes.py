"""Run a service's long-lived processes the same way everywhere: health server, signals, clean stop.

Owns the process lifecycle that every service's thin entry points share: a consumer worker (its batch
consumer plus /healthz /readyz /metrics) and an outbox relay (the relay plus the same endpoints on its
own port). SIGTERM and SIGINT finish the work in hand, then stop.
"""
from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from .consumer import BatchConsumer
from .health import health_app, kafka_check, postgres_check, serve
from .relay import OutboxRelay

log = structlog.get_logger("careruntime.processes")


@dataclass
class ConsumerWorker:
    """What a service's composition root builds for its worker process: the pool, the batch consumer and
    its metrics registry (a service's subclass adds its handler). Ready while PostgreSQL and Kafka answer."""

    pool: asyncpg.Pool
    consumer: BatchConsumer
    registry: CollectorRegistry

    def health(self) -> web.Application:
        return health_app({"postgres": postgres_check(self.pool), "kafka": kafka_check(self.consumer.bootstrap)},
                          self.registry)

# A worker allocates many short-lived objects per batch; CPython's default young-generation threshold
# (700) runs the collector thousands of times a second. Freezing the start-up heap and raising the
# thresholds cut the ledger worker's CPU per event by a third (docs/performance.md). Each young
# collection walks every batch in flight (~20 ms in the ledger at 50,000), however few objects then
# survive, so 200,000 takes that walk a quarter as often: the collector's time in a 200k-event ledger run
# fell from 240-400 ms to ~160 ms (docs/performance.md, "Eighth pass"). Batches ~4x larger (the ledger's
# 512 KiB fetches) put ~4x more objects in flight, and the collector's share doubled to ~2 µs per event;
# 600,000 brought it back to ~1, and 2,000,000 to ~0, with the ledger ~8% faster than at 600,000 (more
# than the collector's own time: each walk also evicts the batch from the CPU's caches; docs/performance.md,
# "Eleventh pass"). The count is of container objects allocated and not yet freed, so it is reached by
# what stays alive (the book, the batches in flight), not by the batch's churn: in a 201,635-event ledger
# run the young collection did not run at all (0.26 s of it at 600,000). Objects are still freed by their
# reference counts as before; this only spaces out the search for cycles, each a walk of up to ~2M objects.
GC_THRESHOLDS = (2_000_000, 20, 100)


def tune_gc() -> tuple[int, int, int]:
    """Move everything alive now out of the collector's way and raise its thresholds; returns the old ones."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


async def run_consumer_process(consumer: Any, pool: asyncpg.Pool, app: web.Application, port: int,
                               stats: Callable[[], dict] | None = None) -> None:
    """Serve health on `port` and consume until a signal asks to stop."""
    runner = await serve(app, port=port)
    consumer.install_signal_handlers()
    tune_gc()
    try:
        await consumer.run()
    finally:
        await runner.cleanup()
        await pool.close()
        log.info("worker stopped", stats=stats() if stats else {})


async def run_relay_process(pool: asyncpg.Pool, relay: OutboxRelay | Sequence[OutboxRelay],
                            registry: CollectorRegistry, bootstrap: str, port: int) -> None:
    """Serve health on `port` and run the relay(s) until a signal asks to stop."""
    relays = [relay] if isinstance(relay, OutboxRelay) else list(relay)
    app = health_app({"postgres": postgres_check(pool), "kafka": kafka_check(bootstrap)}, registry)
    runner = await serve(app, port=port)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: [r.request_stop() for r in relays])
    try:
        await asyncio.gather(*(r.run() for r in relays))
    finally:
        await runner.cleanup()
        await pool.close()
