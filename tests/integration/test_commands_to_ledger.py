"""Commands to ledger, end to end through the real broker and database: a case system's commands on
allocation.commands.v1 -> `python -m allocation worker` + `relay` -> allocation.events.v1 ->
`python -m ledger worker` + `relay` -> journal entries in PostgreSQL and on ledger.entries.v1.

Every process is a real child process on its own database; nothing is mocked. A refused command comes
back as allocation.CommandRejected.v1 carrying the command's id, and the ledger notes it without
posting anything; an accepted one becomes exactly the ledger entries its events' posting rules say.
"""
from __future__ import annotations

import uuid

import asyncpg
import pytest
from careruntime.codec import decode
from careruntime.dlq import dlq_topic
from caretools import localstack

from .ledger_harness import LEDGER_TOPICS, LedgerRun, free_port_pair, ledger_runs, read_topic
from .test_allocation_flow import BUDGET, COUNCIL, EXPECTED, PROVIDER, send

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["ledger_runs"]  # the fixture, imported for pytest

COMMANDS = "allocation.commands.v1"
POSTED = {"c-agree.e1", "c-split.e1", "c-contrib.e1", "c-order.e1", "c-vary.e1", "c-death.e2"}  # money moves
REJECTED = {"c-over.e1": ("c-over", "INSUFFICIENT_BUDGET"), "c-after.e1": ("c-after", "BUDGET_CLOSED")}


class Allocation:
    """`python -m allocation worker` and `relay` on their own database and consumer group."""

    def __init__(self, stack, dsn: str, names: dict[str, str], log_dir) -> None:
        self.stack, self.dsn, self.names = stack, dsn, names
        self.group = f"allocation-it-{uuid.uuid4().hex[:10]}"
        env = localstack.allocation_env(stack, dsn, names, self.group, health_port=free_port_pair())
        self.procs = [localstack.ServiceProcess(cmd, env, log_dir / f"{self.group}-{cmd}.log", service="allocation")
                      for cmd in ("worker", "relay")]

    def start(self) -> None:
        for proc in self.procs:
            proc.start()

    def kill(self) -> None:
        for proc in self.procs:
            proc.kill()

    async def settled(self, timeout_s: float = 60) -> None:
        """Every command sent so far decided, and every event it led to published."""
        for proc in self.procs:
            assert proc.alive(), f"allocation {proc.command} exited: {proc.log_path.read_text()[-3000:]}"
        targets = await localstack.end_offsets(self.stack.bootstrap, [self.names[COMMANDS]])
        await localstack.wait_consumed(self.dsn, self.group, targets, timeout_s)


@pytest.fixture
async def deployment(stack, fresh_db, topics, ledger_runs, tmp_path):
    names = await topics([*LEDGER_TOPICS, COMMANDS, dlq_topic(COMMANDS)], partitions=3)
    allocation = Allocation(stack, await fresh_db("allocation"), names, tmp_path)
    ledger = LedgerRun(stack, await fresh_db("ledger"), names, tmp_path)
    ledger_runs.append(ledger)
    try:
        yield allocation, ledger, names
    finally:
        allocation.kill()


async def test_commands_flow_through_allocation_into_ledger_entries(stack, deployment):
    allocation, ledger, names = deployment
    allocation.start()
    ledger.start()
    # The case system registers its provider and waits for ProviderRegistered before commissioning.
    await send(stack.bootstrap, names[COMMANDS], PROVIDER)
    await allocation.settled()
    await send(stack.bootstrap, names[COMMANDS], BUDGET)
    await allocation.settled()
    # The relay publishes in Kafka transactions: wait for the last record, not the commit marker after it.
    targets = await localstack.record_ends(stack.bootstrap, ledger.inputs)
    await ledger.wait_consumed(timeout_s=90, targets=targets)
    ledger.assert_alive()

    # What the allocation service published, and how the ledger accounted for each of those events.
    published = {}
    for record in await read_topic(stack.bootstrap, names["allocation.events.v1"]):
        decoded = decode(record.value)
        published[decoded.envelope.id] = decoded
    assert set(published) == set(EXPECTED)
    for event_id, (command_id, code) in REJECTED.items():
        rejection = published[event_id]
        assert rejection.envelope.causationid == command_id
        assert (rejection.payload.command_id, rejection.payload.reason_code) == (command_id, code)

    conn = await asyncpg.connect(ledger.dsn)
    alloc = await asyncpg.connect(allocation.dsn)
    try:
        outcomes = {r["event_id"]: (r["outcome"], r["reason_code"]) for r in await conn.fetch(
            "SELECT event_id, outcome, reason_code FROM processed_events")}
        assert set(outcomes) == set(EXPECTED)  # every event the allocation service emitted, once
        assert {i for i, (outcome, _) in outcomes.items() if outcome == "posted"} == POSTED
        assert all(outcomes[i] == ("noted", None) for i in REJECTED)  # a refused command moves no money
        causes = [r["cause_event_id"] for r in await conn.fetch("SELECT cause_event_id FROM journal_entries")]
        assert sorted(causes) == sorted(POSTED)

        # Both services price the order the same way: what allocation holds committed is what the
        # ledger's committed account of the budget holds (SO-1 varied, then ended by the death).
        committed = await alloc.fetchval("SELECT committed_pence FROM budgets WHERE council_id = $1 AND "
                                         "budget_id = 'PB-1'", COUNCIL)
        ledger_committed = await conn.fetchval("SELECT -balance_pence FROM accounts WHERE kind = 'committed'")
        assert committed == ledger_committed == 2450 * 14 * 91 // 7 + 2450 * 20 * 76 // 7
        assert await conn.fetchval("SELECT sum(balance_pence) FROM accounts") == 0
    finally:
        await conn.close()
        await alloc.close()

    # Each posted entry went out on ledger.entries.v1, citing the allocation event that caused it.
    entries = [decode(r.value) for r in await read_topic(stack.bootstrap, names["ledger.entries.v1"])]
    posted = {e.payload.cause_event_id for e in entries if e.envelope.type == "ledger.EntryPosted.v1"}
    assert posted == POSTED
    assert all(e.envelope.councilid == COUNCIL for e in entries)
