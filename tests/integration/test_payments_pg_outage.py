"""PostgreSQL stopped for ~10 s in the middle of a payment run made in parts: `python -m payments worker` and
`relay` stay up (/readyz 503 meanwhile), carry on by themselves when it is back, and the run is made exactly
once: every due payment instructed once (one event id per payment), one run, and the ledger reserves each
payment once. test_payments_crash.py does the same with a SIGKILL of the worker instead."""
from __future__ import annotations

import pytest
from caretools.localstack import free_port_pair

from tests.integration.outage_harness import hold_outage
from tests.integration.payments_harness import deployment
from tests.integration.test_payments_crash import assert_the_run_made_once, start, start_a_run, until_a_part_committed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PEOPLE = 600
OUTAGE_S = 10.0


def alive(procs) -> None:
    assert all(p.poll() is None for p in procs), [p.returncode for p in procs]


async def test_a_postgresql_outage_mid_run_makes_the_run_once(stack, fresh_db, topics, tmp_path, postgres_outage):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    procs = []
    try:
        await dep.start_ledger()
        port = free_port_pair()  # the worker's health port; the relay serves on the next
        procs += [start(dep, "worker", tmp_path / "worker.log", 50, PAYMENTS_HEALTH_PORT=str(port)),
                  start(dep, "relay", tmp_path / "relay.log", PAYMENTS_HEALTH_PORT=str(port))]
        await start_a_run(stack, dep, pool, procs, PEOPLE)
        await until_a_part_committed(pool)
        run = await pool.fetchrow("SELECT status, parts, next_part FROM runs")
        assert run["status"] == "creating" and run["next_part"] < run["parts"], dict(run)

        await hold_outage(postgres_outage, OUTAGE_S, [port, port + 1], lambda: alive(procs))
        print(f"PostgreSQL was down from part {run['next_part']} of {run['parts']}")
        await assert_the_run_made_once(stack, dep, pool, procs, PEOPLE)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        await dep.stop()
