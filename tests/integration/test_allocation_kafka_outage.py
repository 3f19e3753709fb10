"""Kafka outage: `python -m allocation worker`, `relay` and `views` as real processes while the broker
stops mid-stream (cleanly, by a crash, or frozen as behind a network partition) and comes back. They stay
up, /readyz answers 503 naming Kafka meanwhile, and afterwards, with no restart, every command has its one
outcome, every event is on the events topic exactly once (read_committed), and the views serve the final
state. The views started while the broker is down wait for it too."""
from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter

import asyncpg
import pytest
from careruntime.codec import decode

from .kafka_outage import broker_outage, readiness
from .test_allocation_crash import Process, free_port, wait_for, workload
from .test_allocation_flow import COUNCIL, drained, read_all, send
from .test_allocation_views import Views, views_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_S = 10


class _Settings:  # what views_of reads
    def __init__(self, bootstrap: str, events_topic: str) -> None:
        self.kafka_bootstrap, self.events_topic = bootstrap, events_topic


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGSTOP], ids=["stopped", "crashed", "frozen"])
async def test_worker_relay_and_views_carry_on_after_a_broker_outage(stack, fresh_db, topics, tmp_path, how):
    names = await topics(["allocation.commands.v1", "allocation.commands.v1.dlq", "allocation.events.v1"])
    dsn = await fresh_db("allocation")
    env = {"ALLOCATION_KAFKA_BOOTSTRAP": stack.bootstrap, "ALLOCATION_DATABASE_URL": dsn,
           "ALLOCATION_GROUP_ID": f"allocation-{uuid.uuid4().hex[:8]}",
           "ALLOCATION_COMMANDS_TOPIC": names["allocation.commands.v1"],
           "ALLOCATION_EVENTS_TOPIC": names["allocation.events.v1"], "ALLOCATION_MAX_RECORDS": "20",
           "ALLOCATION_LOG_LEVEL": "WARNING"}
    worker = Process("worker", env, tmp_path / "worker.log")
    relay = Process("relay", env, tmp_path / "relay.log")
    views, _ = views_of(_Settings(stack.bootstrap, names["allocation.events.v1"]), tmp_path)
    procs = {"worker": worker, "relay": relay, "views": views}
    # 8x the crash test's workload, and the outage from the second batch on: a clean shutdown of the broker
    # takes seconds, and a fresh clone's worker once decided the last 80% of 2,100 commands in them (1,740 and
    # 2,440 commands in three runs here)
    messages, expected = workload(8000)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)

    def assert_alive() -> None:
        for name, proc in procs.items():
            assert proc.proc.poll() is None, f"{name} exited {proc.proc.returncode}: {proc.log_path.read_text()[-3000:]}"

    try:
        await send(stack.bootstrap, names["allocation.commands.v1"], messages)
        views.start()  # started first and ready: faust's start-up itself does not survive an outage
        for _ in range(120):
            if (await readiness(views.port))[0] == 200:
                break
            await asyncio.sleep(0.5)
        worker.start()
        relay.start()
        await wait_for(pool, "SELECT count(*) FROM processed_commands", lambda n: n >= 40)
        async with broker_outage(stack, how):
            at = await pool.fetchval("SELECT count(*) FROM processed_commands")
            await asyncio.sleep(OUTAGE_S / 2)
            assert_alive()
            unready = {"views": (await readiness(views.port))[0]}
            await asyncio.sleep(OUTAGE_S / 2)
            assert_alive()
        print(f"broker down with {at:,} of {len(messages):,} commands decided")
        assert at < len(messages), "the worker finished before the outage; grow the workload"
        assert unready["views"] == 503, unready
        try:
            await drained(pool, env["ALLOCATION_GROUP_ID"], names["allocation.commands.v1"], stack.bootstrap,
                          timeout_s=120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{ {n: p.log_path.read_text()[-3000:] for n, p in procs.items()} }") from None
        assert_alive()
        assert await pool.fetchval("SELECT count(DISTINCT command_id) FROM processed_commands") == len(messages)
        for n in range(0, 1000, 97):
            summary = await views.summary_when(f"/budgets/{COUNCIL}/PB-{n:04d}", lambda b: b["events_applied"] == 2)
            assert summary["agreed_pence"] == 1_100_000 + n, summary
        for name, proc in procs.items():
            proc.stop() if name != "views" else views.stop()
    finally:
        for proc in procs.values():
            proc.kill()
        await pool.close()

    published = Counter()
    kinds = {}
    for record in await read_all(stack.bootstrap, names["allocation.events.v1"]):
        envelope = decode(record.value).envelope
        published[envelope.id] += 1
        kinds[envelope.id] = envelope.type.split(".")[1]
    assert kinds == expected
    twice = [i for i, n in published.items() if n > 1]
    assert not twice, f"{len(twice)} events published more than once, e.g. {twice[:5]}"


async def test_the_views_started_while_the_broker_is_down_wait_for_it(stack, fresh_db, topics, tmp_path):
    """Started before the broker is back, the views wait for it (no traceback, no exit), then serve what the
    allocation worker decides afterwards."""
    names = await topics(["allocation.commands.v1", "allocation.commands.v1.dlq", "allocation.events.v1"])
    dsn = await fresh_db("allocation")
    env = {"ALLOCATION_KAFKA_BOOTSTRAP": stack.bootstrap, "ALLOCATION_DATABASE_URL": dsn,
           "ALLOCATION_GROUP_ID": f"allocation-{uuid.uuid4().hex[:8]}",
           "ALLOCATION_COMMANDS_TOPIC": names["allocation.commands.v1"],
           "ALLOCATION_EVENTS_TOPIC": names["allocation.events.v1"], "ALLOCATION_LOG_LEVEL": "WARNING"}
    views, _ = views_of(_Settings(stack.bootstrap, names["allocation.events.v1"]), tmp_path)
    worker = Process("worker", env, tmp_path / "worker.log")
    relay = Process("relay", env, tmp_path / "relay.log")
    try:
        async with broker_outage(stack):
            views.start()
            await asyncio.sleep(OUTAGE_S)
            assert views.proc.poll() is None, f"views exited {views.proc.returncode}:\n{views.log_tail(30)}"
        worker.start()
        relay.start()
        await send(stack.bootstrap, names["allocation.commands.v1"], workload()[0][:2])
        summary = await views.summary_when(f"/budgets/{COUNCIL}/PB-0000", lambda b: b["events_applied"] == 2)
        assert summary["agreed_pence"] == 1_100_000, summary
        assert "Traceback" not in views.log_path.read_text(errors="replace"), views.log_tail(30)
    finally:
        for proc in (views, worker, relay):
            proc.stop()
