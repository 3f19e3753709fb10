"""Kafka outage: the broker stops mid-stream for ~10 s and starts again; the ledger carries on by itself.

The same input is read by two ledger deployments, each with its own database, consumer group and
ledger.entries topic: B runs first, and its broker is stopped while B's worker is mid-stream (both the
worker and its entries relay are running); A runs afterwards, fault-free. While the broker is down both
of B's processes stay up and their /readyz answers 503 naming Kafka; when it is back they resume without
being restarted, and B's journal, heads, balances, outcomes and working state equal A's, `verify` is OK,
and B's relay published every entry and rejection exactly once (read_committed).
"""
from __future__ import annotations

import asyncio
import signal
import time

import pytest
from caretools.generator import generate

from .kafka_outage import broker_outage, readiness
from .ledger_harness import (ENTRIES, LedgerRun, connect, diff_summary, ledger_runs, ledger_topics, produce, progress,
                             published_once, read_topic, two_runs_of_a_year, verified_snapshots)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["ledger_runs"]

COUNCIL = "E10000099"
SETTINGS = {"max_records": 100}  # many small transactions, so the outage lands mid-stream
OUTAGE_S = 10


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGSTOP], ids=["stopped", "crashed", "frozen"])
async def test_a_broker_outage_mid_stream_gives_the_same_journal_as_a_fault_free_run(
        stack, fresh_db, topics, ledger_runs, tmp_path, how):
    run_b, run_a, targets = await two_runs_of_a_year(stack, fresh_db, topics, ledger_runs, tmp_path, COUNCIL, 300,
                                                     SETTINGS)
    total = sum(targets.values())
    ports = {"worker": int(run_b.env["LEDGER_HEALTH_PORT"]), "relay": int(run_b.env["LEDGER_HEALTH_PORT"]) + 1}

    run_b.start()
    conn = await connect(run_b.dsn)
    try:
        started = time.monotonic()
        # early, and on 300 people's year: a clean shutdown of the broker takes seconds, in which B went from
        # 15% to 50% of 150 people's year once
        while (done := await progress(conn, run_b, total)) < 0.02:
            run_b.assert_alive()
            assert time.monotonic() - started < 60, f"B stuck at {done:.2%}\n{run_b.logs()}"
            await asyncio.sleep(0.01)
        async with broker_outage(stack, how):
            at = await progress(conn, run_b, total)
            down_since = time.monotonic()
            unready = {}
            while time.monotonic() - down_since < OUTAGE_S:
                run_b.assert_alive()
                for name, port in ports.items():
                    if name not in unready:
                        status, body = await readiness(port)
                        if status == 503:
                            unready[name] = body
                await asyncio.sleep(0.5)
            run_b.assert_alive()
        print(f"broker stopped at {at:.1%} consumed, for {time.monotonic() - down_since:.1f}s")
        assert at < 0.9, f"B had nearly finished before the outage ({at:.1%}): make the input larger"
        assert set(unready) == {"worker", "relay"}, f"not unready during the outage: {set(ports) - set(unready)}"
        assert all("kafka" in body["failing"] for body in unready.values()), unready
    finally:
        await conn.close()

    await run_b.wait_consumed(timeout_s=90, targets=targets)  # resumes by itself: no restart
    run_b.assert_alive()
    for name, port in ports.items():
        assert (await readiness(port))[0] == 200, f"{name} not ready again"
    run_a.start()
    await run_a.wait_consumed(timeout_s=60, targets=targets)
    run_a.assert_alive()

    states = await verified_snapshots({"A": run_a, "B": run_b})
    a, b = states["A"], states["B"]
    assert len(a["journal"]) > 1000, len(a["journal"])
    for part in ("journal", "processed", "state", "heads", "balances"):
        assert a[part] == b[part], f"{part} differs after the outage: {diff_summary(a[part], b[part])}"

    rejections = sum(1 for row in b["processed"] if row[6] == "rejected")
    expected = len(b["journal"]) + rejections
    ids = await published_once(stack.bootstrap, {"A": run_a.names[ENTRIES], "B": run_b.names[ENTRIES]}, expected)
    assert ids["A"] == ids["B"]
    assert run_b.stop() == {"worker": 0, "relay": 0}, run_b.logs()


async def test_a_worker_and_relay_started_while_the_broker_is_down_wait_for_it(
        stack, fresh_db, topics, ledger_runs, tmp_path):
    """Started while the broker is down, the worker and the relay stay up, unready, and log no traceback;
    once it is back they consume and publish what is sent, without being restarted."""
    valid = generate(people=5, seed=4, council_id=COUNCIL)
    names = await ledger_topics(topics)
    run = LedgerRun(stack, await fresh_db("ledger"), names, tmp_path)
    ledger_runs.append(run)
    ports = {"worker": int(run.env["LEDGER_HEALTH_PORT"]), "relay": int(run.env["LEDGER_HEALTH_PORT"]) + 1}
    async with broker_outage(stack):
        run.start()
        await asyncio.sleep(OUTAGE_S)
        run.assert_alive()
        for name, port in ports.items():
            status, body = await readiness(port)
            assert status == 503 and "kafka" in body["failing"], (name, status, body)
    await produce(stack, valid, names)
    await run.wait_consumed(timeout_s=60)
    run.assert_alive()
    conn = await connect(run.dsn)
    try:
        expected = await conn.fetchval("SELECT (SELECT count(*) FROM journal_entries) + "
                                       "(SELECT count(*) FROM processed_events WHERE outcome = 'rejected')")
    finally:
        await conn.close()
    published = await read_topic(stack.bootstrap, names[ENTRIES])
    assert len(published) == expected > 0, (len(published), expected)
    for proc in (run.worker, run.relay):  # a waiting line each attempt, without a traceback
        assert "Traceback" not in proc.log_path.read_text(), run.logs()
    assert run.stop() == {"worker": 0, "relay": 0}, run.logs()
