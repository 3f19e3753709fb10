"""PostgreSQL stopped for ~10 s while `python -m allocation worker` and `relay` work through a backlog: both stay
up (/readyz 503 naming postgres meanwhile), carry on by themselves when it is back, and every command gets
exactly the outcome it gets without an outage, every expected event reaches the events topic, and any event
relayed twice is byte-identical (test_allocation_crash.py does the same with SIGKILLs)."""
from __future__ import annotations

import uuid

import asyncpg
import pytest
from caretools.localstack import free_port_pair

from .outage_harness import hold_outage
from .test_allocation_crash import Process, assert_events, assert_fault_free_outcomes, wait_for, workload
from .test_allocation_flow import drained, send

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_S = 10.0


async def test_a_postgresql_outage_mid_stream_loses_nothing_and_doubles_nothing(stack, fresh_db, topics, tmp_path,
                                                                                postgres_outage):
    names = await topics(["allocation.commands.v1", "allocation.commands.v1.dlq", "allocation.events.v1"])
    dsn = await fresh_db("allocation")
    group = f"allocation-{uuid.uuid4().hex[:8]}"
    port = free_port_pair()  # the worker serves health on it, the relay on the next
    env = {"ALLOCATION_KAFKA_BOOTSTRAP": stack.bootstrap, "ALLOCATION_DATABASE_URL": dsn,
           "ALLOCATION_GROUP_ID": group, "ALLOCATION_COMMANDS_TOPIC": names["allocation.commands.v1"],
           "ALLOCATION_EVENTS_TOPIC": names["allocation.events.v1"], "ALLOCATION_MAX_RECORDS": "20",
           "ALLOCATION_LOG_LEVEL": "WARNING", "ALLOCATION_HEALTH_PORT": str(port)}
    worker = Process("worker", env, tmp_path / "worker.log")
    relay = Process("relay", env, tmp_path / "relay.log")

    def alive() -> None:
        assert worker.proc.poll() is None and relay.proc.poll() is None, (worker.proc.poll(), relay.proc.poll())

    messages, expected = workload()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
    try:
        await send(stack.bootstrap, names["allocation.commands.v1"], messages)
        total = len(messages)
        worker.start()
        relay.start()
        await wait_for(pool, "SELECT count(*) FROM processed_commands", lambda n: n >= total // 5)
        await hold_outage(postgres_outage, OUTAGE_S, [port, port + 1], alive)
        assert await pool.fetchval("SELECT count(*) FROM processed_commands") < total, "done before the outage"
        try:
            await drained(pool, group, names["allocation.commands.v1"], stack.bootstrap, timeout_s=90)
        except AssertionError as exc:
            logs = {p.command: p.log_path.read_text()[-3000:] for p in (worker, relay)}
            raise AssertionError(f"{exc}\n{logs}") from None
        alive()
        assert await pool.fetchval("SELECT count(DISTINCT command_id) FROM processed_commands") == total
        await assert_fault_free_outcomes(pool, expected)
    finally:
        worker.stop()
        relay.stop()
        await pool.close()
    await assert_events(stack.bootstrap, names["allocation.events.v1"], expected)
