"""Thin entry points for the long-running processes: the ingest worker and the outbox relay."""
from __future__ import annotations

import structlog
from careruntime.logging import configure_logging
from careruntime.processes import run_consumer_process, run_relay_process

from .. import native
from ..bootstrap import build_relay, build_worker
from ..config import Settings


async def run_worker(settings: Settings) -> None:
    configure_logging("ledger-worker", settings.log_level)
    structlog.get_logger("ledger").info("ledger decision code", mode=native.mode())
    worker = await build_worker(settings)
    await run_consumer_process(worker.consumer, worker.pool, worker.health(), settings.health_port,
                               stats=lambda: dict(worker.ingest.stats))


async def run_relay(settings: Settings) -> None:
    configure_logging("ledger-relay", settings.log_level)
    pool, relays, registry = await build_relay(settings)
    await run_relay_process(pool, relays, registry, settings.kafka_bootstrap, settings.health_port + 1)
