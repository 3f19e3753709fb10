"""Thin entry points for the long-running processes: the worker, the outbox relay and the due-date timer."""
from __future__ import annotations

import asyncio
import signal

from careruntime.health import serve
from careruntime.logging import configure_logging
from careruntime.processes import run_consumer_process, run_relay_process

from ..bootstrap import build_relay, build_worker, make_pool, make_timer
from ..config import Settings


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
    timer = make_timer(settings, await make_pool(settings))
    runner = await serve(timer.health(), port=settings.health_port + 2)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await timer.run(stop)
    finally:
        await runner.cleanup()
        await timer.pool.close()
