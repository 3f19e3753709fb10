"""Thin entry point of the projection worker."""
from __future__ import annotations

from careruntime.logging import configure_logging
from careruntime.processes import run_consumer_process

from ..bootstrap import build_worker
from ..config import Settings


async def run_worker(settings: Settings) -> None:
    configure_logging("reporting-worker", settings.log_level)
    worker = await build_worker(settings)
    await run_consumer_process(worker.consumer, worker.pool, worker.health(), settings.health_port,
                               stats=lambda: dict(worker.handler.stats))
