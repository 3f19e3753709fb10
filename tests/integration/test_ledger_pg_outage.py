"""PostgreSQL outage: the ledger's worker and relay ride out ~10 s of a refused database by themselves.

The whole PostgreSQL server is stopped (every connection refused, as in a failover or a restart; killed
backends alone are covered by test_runtime_consumer.py and test_runtime_pipeline.py) while the worker is
part-way through a stream and started again. Meanwhile both processes stay up, /healthz answers 200 and
/readyz 503 naming postgres. Afterwards they carry on without a restart, and the journal, chain heads,
balances, outcomes and working state equal those of a fault-free run of the same input (run first, on the
same server), `verify` passes, and the relay published every entry and rejection (at least once: a pass cut
off between Kafka's commit and PostgreSQL's is sent again, identical, as careruntime.relay documents).
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson
import pytest

from .ledger_harness import (ENTRIES, LedgerRun, connect, diff_summary, ledger_runs, progress, read_topic,
                             two_runs_of_a_year, verified_snapshots)
from .outage_harness import hold_outage, ready

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["ledger_runs"]

COUNCIL = "E10000098"
SETTINGS = {"max_records": 100}  # many small batches, so the outage lands mid-stream
OUTAGE_S = 10.0


async def outcomes(run: LedgerRun) -> dict:
    state = (await verified_snapshots({"run": run}))["run"]
    # Without the free-text detail of rejections: a refusal's detail quotes the balance as it stood when the
    # worker took the event, which arrival order may change (test_ledger_crash.py says why).
    state["processed"] = [row[:-1] for row in state["processed"]]
    return state


async def test_a_postgresql_outage_mid_stream_changes_nothing(stack, fresh_db, topics, ledger_runs, tmp_path,
                                                              postgres_outage):
    calm, outage, targets = await two_runs_of_a_year(stack, fresh_db, topics, ledger_runs, tmp_path, COUNCIL, 150,
                                                     SETTINGS)
    total = sum(targets.values())
    calm.start()  # the fault-free run ends before the outage: both share the one server
    await calm.wait_consumed(timeout_s=90, targets=targets)
    expected = await outcomes(calm)

    outage.start()
    port = int(outage.env["LEDGER_HEALTH_PORT"])
    conn = await connect(outage.dsn)
    try:
        started = time.monotonic()
        while (done := await progress(conn, outage, total)) < 0.25:
            outage.assert_alive()
            assert time.monotonic() - started < 60, f"stuck at {done:.0%}\n{outage.logs()}"
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    assert done < 0.9, f"{done:.0%} consumed before the outage: make batches smaller"

    down_s = await hold_outage(postgres_outage, OUTAGE_S, [port, port + 1], outage.assert_alive)
    print(f"PostgreSQL was down {down_s:.1f}s from {done:.0%} consumed")
    await outage.wait_consumed(timeout_s=90, targets=targets)
    outage.assert_alive()
    await ready([port, port + 1])

    got = await outcomes(outage)
    assert len(expected["journal"]) > 1000, len(expected["journal"])
    for part in ("journal", "processed", "state", "heads", "balances"):
        assert got[part] == expected[part], f"{part} differs: {diff_summary(expected[part], got[part])}"

    # The relay published every entry and rejection, each as the fault-free run did. Delivery is at least once
    # (careruntime.relay): a pass whose records Kafka took but whose cursor PostgreSQL never stored, because it
    # went away in between, is sent again, byte for byte; consumers dedupe by event id.
    published = {}
    for name, topic in (("calm", calm.names[ENTRIES]), ("outage", outage.names[ENTRIES])):
        published[name] = Counter((orjson.loads(r.value)["id"], r.value) for r in await read_topic(stack.bootstrap, topic))
    assert max(published["calm"].values()) == 1
    assert set(published["outage"]) == set(published["calm"])  # every id once more only with the same bytes
    rejections = sum(1 for row in got["processed"] if row[6] == "rejected")
    assert len(published["outage"]) == len(got["journal"]) + rejections
    print(f"sent again after the outage: {sum(published['outage'].values()) - len(published['outage'])} records")
