"""Crash test: `kill -9` of the ledger worker mid-stream changes nothing.

The same input (a few thousand events of a synthetic year, bad input included) is read by two ledger
deployments, each with its own database, consumer group and ledger.entries topic:
  A runs fault-free;
  B's worker is killed with SIGKILL three times at different progress levels (measured by the
    offsets stored in PostgreSQL; the first right after its first committed batch) and restarted.
Both read the SAME input topics, because a shard is named after its input partition and the shard
name is part of every entry id and hash. Afterwards the two journals, chain heads, balances, outcome
logs and working state must be identical, and B's relay must have published every entry and
rejection exactly once.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from caretools.badinput import bad_messages
from caretools.generator import generate
from caretools.messages import message

from .ledger_harness import (
    ALLOCATION,
    ENTRIES,
    LedgerRun,
    connect,
    diff_summary,
    dlq_topic,
    ledger_runs,
    ledger_topics,
    produce,
    published_once,
    read_topic,
    verified_snapshots,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["ledger_runs"]

COUNCIL = "E10000099"
# Small batches, so the stream is many transactions and a kill lands between or inside them.
# Both runs use the same settings: only the crashes differ.
SETTINGS = {"max_records": 100}
KILL_AT = (0.0, 0.35, 0.7)  # fractions of the input consumed; 0.0 = right after the first commit


async def worker_transaction_open(conn, deadline_s: float) -> bool:
    """Wait (briefly) until the worker is inside a batch transaction, so that the kill interrupts one."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if await conn.fetchval(WORKER_IN_TRANSACTION):
            return True
        await asyncio.sleep(0.002)
    return False


# A worker batch writes these. The relays touch the outbox, and read the journal and shard heads past
# their cursor in `entries_relayed`, which every statement of theirs on those tables names.
WORKER_IN_TRANSACTION = """
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
   AND query NOT ILIKE '%entries_relayed%'
   AND (query ILIKE '%ledger_state%' OR query ILIKE '%processed_events%' OR query ILIKE '%journal_entries%'
        OR query ILIKE '%shard_heads%' OR query ILIKE '%consumer_offsets%' OR query ILIKE '%accounts%'
        OR query ILIKE 'COPY%')"""


async def progress(conn, run: LedgerRun, total: int) -> float:
    stored = await run.stored_offsets(conn)
    return sum(stored.values()) / total


async def test_kill_minus_nine_mid_stream_gives_the_same_journal_as_a_fault_free_run(
        stack, fresh_db, topics, ledger_runs, tmp_path):
    valid = generate(people=150, seed=1, council_id=COUNCIL)
    messages = valid + bad_messages(valid, COUNCIL)
    names = await ledger_topics(topics)
    names_b = {**names, ENTRIES: (await topics([ENTRIES]))[ENTRIES]}
    await produce(stack, messages, names)  # all input first: both runs see exactly the same stream

    run_a = LedgerRun(stack, await fresh_db("ledger"), names, tmp_path, extra=SETTINGS)
    run_b = LedgerRun(stack, await fresh_db("ledger"), names_b, tmp_path, extra=SETTINGS)
    ledger_runs.extend([run_a, run_b])
    targets = await run_a.end_offsets()
    total = sum(targets.values())
    assert total == len(messages)

    run_a.start()
    run_b.start()
    kills = []
    conn_b = await connect(run_b.dsn)
    try:
        for threshold in KILL_AT:
            started = time.monotonic()
            while (done := await progress(conn_b, run_b, total)) <= threshold:
                assert run_b.worker.proc.poll() is None, run_b.logs()
                assert time.monotonic() - started < 40, f"B stuck at {done:.2%}\n{run_b.logs()}"
                await asyncio.sleep(0.01)
            inside = await worker_transaction_open(conn_b, deadline_s=2.0)
            run_b.worker.kill()
            at = await progress(conn_b, run_b, total)
            assert at < 1.0, f"B finished before the kill meant for {threshold:.0%}: make batches smaller"
            kills.append((round(at, 3), "inside a batch transaction" if inside else "between batches"))
            print(f"{time.monotonic() - started:6.2f}s to reach {threshold:.0%}; killed B's worker at {kills[-1]}")
            run_b.worker.start()
    finally:
        await conn_b.close()
    assert len(kills) == len(KILL_AT) and kills == sorted(kills), kills
    assert any(where == "inside a batch transaction" for _, where in kills), kills

    await asyncio.gather(run_a.wait_consumed(timeout_s=60, targets=targets),
                         run_b.wait_consumed(timeout_s=60, targets=targets))
    run_a.assert_alive()
    run_b.assert_alive()

    states = await verified_snapshots({"A": run_a, "B": run_b})
    a, b = states["A"], states["B"]
    assert len(a["journal"]) > 1000, len(a["journal"])
    # Compare outcomes without the free-text detail of rejections: when a restarted worker's first batches
    # hold only one topic's partitions, the ledger takes them as they came rather than stall (see
    # docs/architecture.md, "Ordering across topics"), and a refusal's detail then quotes the balance as
    # it stood at that moment. The journal, the balances, the outcome and the reason code must not differ.
    for run in (a, b):
        run["processed"] = [row[:-1] for row in run["processed"]]
    for part in ("journal", "processed", "state"):
        assert a[part] == b[part], (
            f"{part} differs after kills at {kills}: {diff_summary(a[part], b[part])}\n(a difference here that "
            "is not a crash artefact: see test_the_same_input_log_gives_the_same_outcomes_however_it_was_batched)")
    assert a["heads"] == b["heads"], f"shard heads differ after kills at {kills}"
    assert a["balances"] == b["balances"], (
        f"balances differ after kills at {kills}: {diff_summary(a['balances'].items(), b['balances'].items())}")

    # B's relay published every entry and rejection once: a worker crash leaves no half-written outbox.
    rejections = sum(1 for row in b["processed"] if row[6] == "rejected")
    expected = len(b["journal"]) + rejections
    ids = await published_once(stack.bootstrap, {"A": names[ENTRIES], "B": names_b[ENTRIES]}, expected)
    assert ids["A"] == ids["B"]
    published = await read_topic(stack.bootstrap, names_b[ENTRIES])
    posted = {orjson.loads(r.value)["data"]["entry_id"] for r in published
              if orjson.loads(r.value)["type"] == "ledger.EntryPosted.v1"}
    assert posted == {row[0] for row in b["journal"]}

    # Both deployments dead-lettered the same undecodable records into the one shared DLQ topic, once each.
    dead = await read_topic(stack.bootstrap, names[dlq_topic(ALLOCATION)])
    per_value = Counter(r.value for r in dead)
    assert len(per_value) == 9 and set(per_value.values()) == {2}, per_value


def _order_dependent_input() -> list:
    """A budget of £1,000.00; then (1 s later, on payments) a DP schedule committing £780.00; then
    (1 s later, on allocation) a service order committing £521.42. In business time the schedule
    comes first, so the order cannot fit; either one alone would."""
    start, end, t0 = date(2026, 4, 1), date(2027, 3, 31), datetime(2026, 4, 1, 12, tzinfo=UTC)
    return [
        message("allocation.PersonalBudgetAgreed.v1", "ord-1", COUNCIL, t0, budget_id="PB-ORDER",
                person_ref="P-order", amount_pence=100_000, indicative_pence=100_000, variance_reason=None,
                start_date=start, end_date=end, effective_date=start),
        message("payments.DirectPaymentScheduled.v1", "ord-2", COUNCIL, t0 + timedelta(seconds=1),
                schedule_id="DPS-ORDER", budget_id="PB-ORDER", amount_pence=6_000, frequency_weeks=4,
                first_due_date=start, end_date=end, contribution_mode="netted", effective_date=start),
        message("allocation.ServiceOrderCommissioned.v1", "ord-3", COUNCIL, t0 + timedelta(seconds=2),
                order_id="SO-ORDER", budget_id="PB-ORDER", provider_id="PR-PRI-01", service_type="home_care",
                unit="hour", rate_pence=1_000, planned_units_per_week=1, payment_basis="invoice",
                start_date=start, end_date=end, effective_date=start),
    ]


async def test_the_same_input_log_gives_the_same_outcomes_however_it_was_batched(stack, fresh_db, topics,
                                                                                ledger_runs, tmp_path):
    messages = _order_dependent_input()
    names = await ledger_topics(topics)
    live = LedgerRun(stack, await fresh_db("ledger"), names, tmp_path)
    backlog = LedgerRun(stack, await fresh_db("ledger"), {**names, ENTRIES: (await topics([ENTRIES]))[ENTRIES]},
                        tmp_path)
    ledger_runs.extend([live, backlog])
    live.start()  # reads each event as it arrives, in business order
    for m in messages:
        await produce(stack, [m], names)
        await live.wait_consumed(timeout_s=30)
    backlog.start()  # reads the very same log afterwards, as after an outage or a replay
    await backlog.wait_consumed(timeout_s=30)

    outcomes = {}
    for name, run in (("live", live), ("backlog", backlog)):
        conn = await connect(run.dsn)
        try:
            outcomes[name] = [tuple(r) for r in await conn.fetch(
                "SELECT event_id, outcome, reason_code FROM processed_events ORDER BY event_id")]
        finally:
            await conn.close()
    assert outcomes["live"] == [("ord-1", "posted", None), ("ord-2", "posted", None),
                                ("ord-3", "rejected", "INSUFFICIENT_BUDGET")]
    assert outcomes["backlog"] == outcomes["live"], outcomes
