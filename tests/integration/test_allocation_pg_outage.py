"""PostgreSQL stopped for ~10 s while `python -m allocation worker` and `relay` work through a backlog: both stay
up (/readyz 503 naming postgres meanwhile), carry on by themselves when it is back, and every command gets
exactly the outcome it gets without an outage, every expected event reaches the events topic, and any event
relayed twice is byte-identical (test_allocation_crash.py does the same with SIGKILLs)."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict

import aiohttp
import asyncpg
import pytest
from careruntime.codec import decode

from caretools.localstack import free_port_pair

from .test_allocation_crash import Process, wait_for, workload
from .test_allocation_flow import drained, read_all, send

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
    messages, expected = workload()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
    try:
        await send(stack.bootstrap, names["allocation.commands.v1"], messages)
        total = len(messages)
        worker.start()
        relay.start()
        await wait_for(pool, "SELECT count(*) FROM processed_commands", lambda n: n >= total // 5)
        async with aiohttp.ClientSession() as http, postgres_outage():
            down_at = time.monotonic()
            while time.monotonic() - down_at < OUTAGE_S:
                assert worker.proc.poll() is None and relay.proc.poll() is None
                for p in (port, port + 1):  # the relay serves health on the next port
                    async with http.get(f"http://127.0.0.1:{p}/readyz") as r:
                        assert r.status == 503 and (await r.json())["failing"] == ["postgres"], p
                await asyncio.sleep(1.0)
        assert await pool.fetchval("SELECT count(*) FROM processed_commands") < total, "done before the outage"
        try:
            await drained(pool, group, names["allocation.commands.v1"], stack.bootstrap, timeout_s=90)
        except AssertionError as exc:
            logs = {p.command: p.log_path.read_text()[-3000:] for p in (worker, relay)}
            raise AssertionError(f"{exc}\n{logs}") from None
        assert worker.proc.poll() is None and relay.proc.poll() is None
        assert await pool.fetchval("SELECT count(DISTINCT command_id) FROM processed_commands") == total
        outcomes = {r["command_id"]: (r["outcome"], r["reason_code"]) for r in await pool.fetch(
            "SELECT command_id, outcome, reason_code FROM processed_commands")}
        assert outcomes == {event_id.removesuffix(".e1"): ("rejected", "UNKNOWN_BUDGET") if kind == "CommandRejected"
                            else ("accepted", None) for event_id, kind in expected.items()}
    finally:
        worker.stop()
        relay.stop()
        await pool.close()

    values, kinds = defaultdict(set), {}
    for record in await read_all(stack.bootstrap, names["allocation.events.v1"]):
        envelope = decode(record.value).envelope
        values[envelope.id].add(record.value)
        kinds[envelope.id] = envelope.type.split(".")[1]
    assert kinds == expected  # nothing lost, nothing invented
    assert all(len(v) == 1 for v in values.values())  # any relayed twice is byte-identical
