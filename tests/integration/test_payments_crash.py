"""Crash-and-restart in the middle of a payment run: `python -m payments worker` is killed with SIGKILL
while the run's transaction is open (a run made in one transaction), or after some parts of a run made
in parts have committed, started again, and the run is made exactly once: every due payment instructed
once (one event id per payment), one run, and the ledger reserves each payment once."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import date

import asyncpg
import pytest

from tests.integration.payments_harness import (
    ALLOCATION, COMMANDS, EVENTS, alloc, command, deployment, read_events, send,
)

pytestmark = pytest.mark.integration

D0 = date(2026, 4, 6)
PEOPLE = 3_000
RUN_DAY = date(2026, 5, 4)  # two 4-weekly periods each


def start(dep, command_name: str, log_path, part_size: int | None = None, **extra: str) -> subprocess.Popen:
    env = {**os.environ, **dep.env(), **({"PAYMENTS_RUN_PART_SIZE": str(part_size)} if part_size else {}), **extra}
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "payments", command_name], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


async def _kill_inside_the_run_transaction(pool) -> None:
    for _ in range(3000):
        busy = await pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND xact_start IS NOT NULL AND (query ILIKE '%schedules%' OR query ILIKE '%payments%')""")
        if busy:
            return
        await asyncio.sleep(0.005)


async def until_a_part_committed(pool) -> None:
    for _ in range(3000):
        if (await pool.fetchval("SELECT next_part FROM runs") or 0) >= 1:
            return
        await asyncio.sleep(0.005)


async def start_a_run(stack, dep, pool, procs, people: int) -> None:
    """`people` budgets, a 4-weekly direct payment for each, then the command to create RUN-1 for RUN_DAY (two
    periods each)."""
    await send(stack.bootstrap, dep.names[ALLOCATION], [
        alloc("PersonalBudgetAgreed", f"a-{n}", budget_id=f"PB-{n}", person_ref=f"P-{n}", amount_pence=2_000_000,
              start_date=D0, end_date=date(2027, 4, 4)) for n in range(people)])
    await dep.payments_settled(timeout_s=180, procs=procs)  # the council schedules budgets payments knows
    await send(stack.bootstrap, dep.names[COMMANDS], [
        command("payments.ScheduleDirectPayment", f"c-s{n}", schedule_id=f"S-{n}", budget_id=f"PB-{n}",
                amount_pence=100_000 + n, frequency_weeks=4, first_due_date=D0, end_date=date(2027, 4, 4),
                contribution_mode="gross") for n in range(people)])
    await dep.payments_settled(timeout_s=180, procs=procs)
    assert await pool.fetchval("SELECT count(*) FROM schedules") == people

    await send(stack.bootstrap, dep.names[COMMANDS], [command(
        "payments.CreatePaymentRun", "c-run", run_id="RUN-1", created_by="alice", due_on=RUN_DAY,
        effective_date=RUN_DAY)])


async def assert_the_run_made_once(stack, dep, pool, procs, people: int) -> None:
    """RUN-1 is created (its remaining parts chain through the commands topic) with every due payment
    instructed once, under one event id each, and the ledger reserved each payment once."""
    for _ in range(1200):  # the remaining parts chain through the commands topic
        if await pool.fetchval("SELECT status FROM runs") == "created":
            break
        assert all(p.poll() is None for p in procs)
        await asyncio.sleep(0.1)
    await dep.payments_settled(timeout_s=180, procs=procs)
    assert await pool.fetchval("SELECT count(*) FROM runs") == 1
    assert await pool.fetchval("SELECT status FROM runs") == "created"
    assert await pool.fetchval("SELECT count(*) FROM payments WHERE status = 'instructed'") == 2 * people

    events = [e for e in await read_events(stack.bootstrap, dep.names[EVENTS])
              if e.type == "payments.PaymentInstructed.v1"]
    ids_by_payment: dict[str, set[str]] = {}
    for e in events:
        ids_by_payment.setdefault(e.data["payment_id"], set()).add(e.id)
    assert len(ids_by_payment) == 2 * people
    assert all(len(ids) == 1 for ids in ids_by_payment.values())  # resends, if any, carry the same id

    await dep.ledger_settled(timeout_s=240)
    ledger = await asyncpg.connect(dep.ledger_dsn)
    try:
        refused = await ledger.fetch("SELECT reason_code, count(*) FROM processed_events WHERE outcome = 'rejected' "
                                     "GROUP BY 1")
        assert refused == []
        pending = await ledger.fetchval("SELECT sum(balance_pence) FROM accounts WHERE kind = 'pending'")
        assert abs(pending) == sum(2 * (100_000 + n) for n in range(people))
    finally:
        await ledger.close()


# Parts of 250 make a dozen parts here, so the kill (sent once the first part has committed) lands with parts
# still to make; with 1,000 (3 parts) a fresh-clone run once finished the whole run before the kill landed.
@pytest.mark.parametrize("part_size", [None, 250], ids=["one-transaction", "in-parts"])
async def test_a_worker_killed_mid_run_restarts_without_paying_twice(stack, fresh_db, topics, tmp_path, part_size):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    procs: list[subprocess.Popen] = []
    try:
        await dep.start_ledger()
        procs += [start(dep, "worker", tmp_path / "worker.log", part_size), start(dep, "relay", tmp_path / "relay.log")]
        await start_a_run(stack, dep, pool, procs, PEOPLE)
        # Kill the worker inside the run's transaction, or after its first part has committed.
        await (until_a_part_committed(pool) if part_size else _kill_inside_the_run_transaction(pool))
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait()
        await asyncio.sleep(0.5)  # PostgreSQL notices the dead connection and rolls its transaction back
        if part_size:
            run = await pool.fetchrow("SELECT status, parts, next_part FROM runs")
            assert run["status"] == "creating" and 1 <= run["next_part"] < run["parts"], dict(run)
        else:
            assert await pool.fetchval("SELECT count(*) FROM runs") == 0, "the kill came after the run committed"
            assert await pool.fetchval("SELECT count(*) FROM payments") == 0

        procs[0] = start(dep, "worker", tmp_path / "worker2.log", part_size)
        await assert_the_run_made_once(stack, dep, pool, procs, PEOPLE)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        await dep.stop()
