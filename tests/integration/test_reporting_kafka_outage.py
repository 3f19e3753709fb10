"""Kafka outage mid-projection: `python -m reporting worker` (a real process) reading ledger.entries and the
domain topics stays up while the broker is stopped, and once it is back, with no restart, its projection
equals a fault-free worker's over the same topics, row for row."""
from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from caretools import localstack

from .kafka_outage import broker_outage
from .ledger_harness import ALLOCATION, ENTRIES, PAYMENTS, LedgerRun, ledger_runs, ledger_topics
from .reporting_harness import Databases, ReportingWorker, feed, projection_differences, projection_rows, settings_for, split_year

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["ledger_runs"]

OUTAGE_S = 10


async def consumed(stack, worker: ReportingWorker, settings, timeout_s: float) -> None:
    inputs = [settings.entries_topic, *settings.domain_topics]
    targets = await localstack.record_ends(stack.bootstrap, inputs)
    try:
        await localstack.wait_consumed(settings.database_url, settings.group_id, targets, timeout_s, outbox_empty=False)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{worker.log_path.read_text()[-3000:]}") from None


async def test_the_projection_after_a_broker_outage_equals_a_fault_free_one(stack, fresh_db, topics, ledger_runs,
                                                                           tmp_path):
    valid, bad = split_year(150, 5)
    run = LedgerRun(stack, await fresh_db("ledger"), await ledger_topics(topics), tmp_path)
    ledger_runs.append(run)
    run.start()
    await feed(run, valid + bad)
    run.stop()
    databases = Databases(stack)
    settings_b = settings_for(stack, await databases.new(), run)
    settings_a = settings_for(stack, await databases.new(), run)
    worker_b = ReportingWorker(settings_b, tmp_path / "reporting-b.log")
    worker_b.env["REPORTING_MAX_RECORDS"] = "100"  # many small batches, so the outage lands mid-stream
    worker_a = ReportingWorker(settings_a, tmp_path / "reporting-a.log")
    try:
        total = sum((await localstack.record_ends(stack.bootstrap, [run.names[t] for t in (ENTRIES, ALLOCATION, PAYMENTS)]
                                                  )).values())
        worker_b.start()
        conn = await asyncpg.connect(settings_b.database_url)
        try:
            started = time.monotonic()
            while (await conn.fetchval("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets")) < total * 0.15:
                assert worker_b.proc.poll() is None, worker_b.log_path.read_text()[-3000:]
                assert time.monotonic() - started < 60, "the reporting worker made no progress"
                await asyncio.sleep(0.01)
            async with broker_outage(stack):
                at = await conn.fetchval("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets")
                await asyncio.sleep(OUTAGE_S)
                assert worker_b.proc.poll() is None, worker_b.log_path.read_text()[-3000:]
        finally:
            await conn.close()
        assert at < total, "the worker finished before the outage; grow the input"
        await consumed(stack, worker_b, settings_b, timeout_s=120)
        assert worker_b.proc.poll() is None
        worker_a.start()
        await consumed(stack, worker_a, settings_a, timeout_s=120)
        worker_b.stop()
        worker_a.stop()
        assert worker_b.proc.returncode == 0, worker_b.log_path.read_text()[-3000:]
        a, b = await projection_rows(settings_a.database_url), await projection_rows(settings_b.database_url)
        assert len(a["rp_entries"]) > 1000
        assert a == b, projection_differences(a, b)
    finally:
        worker_b.stop()
        worker_a.stop()
        await databases.drop_all()
