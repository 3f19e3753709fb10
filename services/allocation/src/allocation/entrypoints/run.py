"""Thin entry points for the long-running processes: the command worker and the outbox relay."""
from __future__ import annotations

import asyncio
import signal

import structlog
from careruntime.health import health_app, kafka_check, postgres_check, serve
from careruntime.logging import configure_logging

from ..bootstrap import build_relay, build_worker
from ..config import Settings

log = structlog.get_logger("allocation")


async def run_worker(settings: Settings) -> None:
    configure_logging("allocation-worker", settings.log_level)
    worker = await build_worker(settings)
    runner = await serve(worker.health(), port=settings.health_port)
    worker.consumer.install_signal_handlers()
    try:
        await worker.consumer.run()
    finally:
        await runner.cleanup()
        await worker.pool.close()
        log.info("worker stopped", stats=dict(worker.ingest.stats))


async def run_relay(settings: Settings) -> None:
    configure_logging("allocation-relay", settings.log_level)
    pool, relay, registry = await build_relay(settings)
    app = health_app({"postgres": postgres_check(pool), "kafka": kafka_check(settings.kafka_bootstrap)}, registry)
    runner = await serve(app, port=settings.health_port + 1)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.request_stop)
    try:
        await relay.run()
    finally:
        await runner.cleanup()
        await pool.close()
