"""Thin entry points for the long-running processes: the worker, the outbox relay and the due-date timer."""
from __future__ import annotations

import asyncio
import signal

from careruntime.health import health_app, postgres_check, serve
from careruntime.logging import configure_logging
from careruntime.processes import run_consumer_process, run_relay_process
from prometheus_client import CollectorRegistry

from ..bootstrap import build_relay, build_worker, business_clock, make_pool
from ..config import Settings
from ..service.timer import run_timer


async def run_worker(settings: Settings) -> None:
    configure_logging("payments-worker", settings.log_level)
    worker = await build_worker(settings)
    await run_consumer_process(worker.consumer, worker.pool, worker.health(), settings.health_port,
                               stats=lambda: dict(worker.ingest.stats))


async def run_relay(settings: Settings) -> None:
    configure_logging("payments-relay", settings.log_level)
    pool, relay, registry = await build_relay(settings)
    await run_relay_process(pool, relay, registry, settings.kafka_bootstrap, settings.health_port + 1)


async def run_timer_process(settings: Settings) -> None:
    configure_logging("payments-timer", settings.log_level)
    pool = await make_pool(settings)
    runner = await serve(health_app({"postgres": postgres_check(pool)}, CollectorRegistry()),
                         port=settings.health_port + 2)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_timer(pool, business_clock(settings), settings.timer_interval_s, stop)
    finally:
        await runner.cleanup()
        await pool.close()
