"""Crash and restart mid-stream: `python -m allocation worker` and `relay` as real processes, killed
with SIGKILL while commands flow (the worker three times), then restarted. Every command gets exactly
one recorded outcome, the one it gets without a crash, every expected event reaches the events
topic with the type it should have, and PostgreSQL never shows a batch half written; a relay crash may publish an event again, but only
ever with the same id and the same bytes (consumers dedupe by id)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import date

import asyncpg
import pytest
from careruntime.codec import decode
from caretools.localstack import free_port_pair

from .test_allocation_flow import command, drained, read_all, send

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUDGETS = 1000  # 2,100 commands


def free_port() -> int:
    """A port p with p + 1 free too (the relay serves health on p + 1), below the kernel's ephemeral range
    (caretools.localstack.free_port_pair): a port the kernel handed out for binding port 0 was once taken by
    an outgoing connection before the relay bound p + 1 ('address already in use')."""
    return free_port_pair()


class Process:
    """`python -m allocation <command>` as a child process."""

    def __init__(self, command: str, env: dict[str, str], log_path) -> None:
        self.command, self.env, self.log_path = command, env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "allocation", self.command],
                                         env={**os.environ, "ALLOCATION_HEALTH_PORT": str(free_port()), **self.env},
                                         stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


def workload(budgets: int = BUDGETS) -> tuple[list, dict[str, str]]:
    """Per budget: agree, revise (accepted) and, for every tenth, a revision of a budget that does not
    exist (rejected). Returns the commands and the events they must lead to: {event id: type}."""
    messages, expected = [], {}
    for n in range(budgets):
        budget = f"PB-{n:04d}"
        messages.append(command("AgreePersonalBudget", f"{budget}-agree", budget_id=budget, person_ref=f"P-{n}",
                                amount_pence=1_000_000 + n, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31)))
        messages.append(command("RevisePersonalBudget", f"{budget}-revise", budget_id=budget,
                                amount_pence=1_100_000 + n, reason="Annual review"))
        expected |= {f"{budget}-agree.e1": "PersonalBudgetAgreed", f"{budget}-revise.e1": "PersonalBudgetRevised"}
        if n % 10 == 0:
            messages.append(command("RevisePersonalBudget", f"{budget}-ghost", budget_id=f"GHOST-{n}",
                                    amount_pence=1, reason="typo"))
            expected[f"{budget}-ghost.e1"] = "CommandRejected"
    return messages, expected


# A batch's changes are visible all at once or not at all: a budget's state never runs ahead of the
# processed_commands rows that account for it (each accepted command here applies one budget event, and
# one statement reads both tables in one snapshot).
HALF_WRITTEN = ("SELECT (SELECT coalesce(sum(version), 0) FROM budgets) "
                "- (SELECT count(*) FROM processed_commands WHERE outcome = 'accepted')")


async def half_written_batches(pool: asyncpg.Pool, stop: asyncio.Event) -> list[int]:
    """Sample HALF_WRITTEN until `stop`; returns every non-zero gap seen."""
    gaps = []
    while not stop.is_set():
        if gap := await pool.fetchval(HALF_WRITTEN):
            gaps.append(gap)
        await asyncio.sleep(0.002)
    return gaps


async def wait_for(pool: asyncpg.Pool, query: str, predicate, timeout_s: float = 60) -> int:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await pool.fetchval(query)
        if predicate(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting; last value {value}"
        await asyncio.sleep(0.02)


async def test_killed_worker_and_relay_lose_nothing_and_double_nothing(stack, fresh_db, topics, tmp_path):
    names = await topics(["allocation.commands.v1", "allocation.commands.v1.dlq", "allocation.events.v1"])
    dsn = await fresh_db("allocation")
    group = f"allocation-{uuid.uuid4().hex[:8]}"
    env = {"ALLOCATION_KAFKA_BOOTSTRAP": stack.bootstrap, "ALLOCATION_DATABASE_URL": dsn,
           "ALLOCATION_GROUP_ID": group, "ALLOCATION_COMMANDS_TOPIC": names["allocation.commands.v1"],
           "ALLOCATION_EVENTS_TOPIC": names["allocation.events.v1"], "ALLOCATION_MAX_RECORDS": "20",
           "ALLOCATION_LOG_LEVEL": "WARNING"}
    worker = Process("worker", env, tmp_path / "worker.log")
    relay = Process("relay", env, tmp_path / "relay.log")
    messages, expected = workload()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(half_written_batches(pool, stop_watching))
    try:
        # All commands first, then the worker: it works through a backlog, so every kill lands mid-stream
        # (sent while it ran, a quiet machine's worker kept up with the sender and was done before a kill).
        await send(stack.bootstrap, names["allocation.commands.v1"], messages)
        total = len(messages)
        worker.start()
        relay.start()

        # Kill the worker at several points part-way through (each lands somewhere in a batch: fetching,
        # deciding, or writing), and the relay while the outbox has rows in it.
        # Each kill waits for a tenth of the workload more than the last one saw, so the restarted worker has
        # made progress and most of the work is still ahead (fixed shares of the total once let a fast
        # worker reach the end between a poll and the kill).
        done_at_kill = 0
        for _ in range(3):
            await wait_for(pool, "SELECT count(*) FROM processed_commands",
                           lambda n, t=done_at_kill + total // 10: n >= t)
            worker.kill()
            done_at_kill = await pool.fetchval("SELECT count(*) FROM processed_commands")
            assert done_at_kill < total, "the worker finished before it could be killed; grow the workload"
            worker.start()
        await wait_for(pool, "SELECT count(*) FROM processed_commands", lambda n: n >= total // 2)
        relay.kill()
        relay.start()

        try:
            await drained(pool, group, names["allocation.commands.v1"], stack.bootstrap, timeout_s=90)
        except AssertionError as exc:
            logs = {p.command: p.log_path.read_text()[-3000:] for p in (worker, relay)}
            raise AssertionError(f"{exc}\n{logs}") from None
        stop_watching.set()
        assert await watcher == [], "PostgreSQL showed a batch half written"
        assert await pool.fetchval("SELECT count(*) FROM processed_commands") == total
        assert await pool.fetchval("SELECT count(DISTINCT command_id) FROM processed_commands") == total
        assert await pool.fetchval("SELECT count(*) FROM budgets") == BUDGETS
        assert await pool.fetchval("SELECT count(*) FROM budgets WHERE amount_pence = 1100000 + "
                                   "substr(budget_id, 4)::int AND version = 2") == BUDGETS
        # The same outcome as without a crash: nothing decided twice against state it had already changed.
        await assert_fault_free_outcomes(pool, expected)
    finally:
        stop_watching.set()
        await asyncio.gather(watcher, return_exceptions=True)
        worker.stop()
        relay.stop()
        await pool.close()

    await assert_events(stack.bootstrap, names["allocation.events.v1"], expected)


async def assert_fault_free_outcomes(pool: asyncpg.Pool, expected: dict[str, str]) -> None:
    """Every command of `workload()` has the outcome it has without a fault (`expected`: event id -> type)."""
    outcomes = {r["command_id"]: (r["outcome"], r["reason_code"]) for r in await pool.fetch(
        "SELECT command_id, outcome, reason_code FROM processed_commands")}
    assert outcomes == {event_id.removesuffix(".e1"): ("rejected", "UNKNOWN_BUDGET") if kind == "CommandRejected"
                        else ("accepted", None) for event_id, kind in expected.items()}


async def assert_events(bootstrap: str, topic: str, expected: dict[str, str]) -> None:
    """`topic` holds exactly the `expected` events (id -> type); any relayed twice is byte-identical."""
    values, kinds = defaultdict(set), {}
    for record in await read_all(bootstrap, topic):
        env = decode(record.value).envelope
        values[env.id].add(record.value)
        kinds[env.id] = env.type.split(".")[1]
    assert kinds == expected  # nothing lost, nothing invented, each the event it should be
    assert all(len(v) == 1 for v in values.values())  # any relayed twice is byte-identical
