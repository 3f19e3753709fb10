"""The journal is the outbox of ledger.entries (`python -m ledger relay`, ledger.adapters.entries_relay).

The worker writes each entry once, to the journal; the relay publishes it from there past a cursor per
shard. Shown against the real broker and database: entries committed while no relay runs wait in
`entries_unrelayed`, a relay started later publishes each of them once, in chain order per shard, with
its cause's subject and correlation id; a relay restarted after more input publishes only what is new;
a standby relay takes over when the leader dies.
"""
from __future__ import annotations

import asyncio
from collections import Counter, defaultdict

import orjson
import pytest
from caretools import localstack
from caretools.generator import generate
from caretools.localstack import unpublished

from .ledger_harness import (
    ENTRIES, connect, envelope_id, free_port_pair, module_deployment, produce, read_topic, until,
)

pytestmark = [pytest.mark.integration]

COUNCIL = "E10000077"


async def test_entries_wait_for_the_relay_and_are_published_once_in_chain_order(stack, tmp_path):
    messages = generate(people=6, seed=3, council_id=COUNCIL)
    first, second = messages[: len(messages) // 2], messages[len(messages) // 2:]
    causes = {envelope_id(m): orjson.loads(m.value) for m in messages}
    async with module_deployment(stack, tmp_path) as run:
        run.start(relay=False)
        await produce(stack, first, run.names)
        conn = await connect(run.dsn)
        try:
            await until(lambda: _consumed(conn, run, len(first)), 60, what="the worker to consume the first half")
            entries = await conn.fetchval("SELECT count(*) FROM journal_entries")
            assert entries > 20
            assert await unpublished(conn) == entries  # committed, none published: nothing lost meanwhile

            run.relay.start()
            await run.wait_consumed(timeout_s=60)
            assert run.relay.stop() == 0
            await produce(stack, second, run.names)
            await until(lambda: _consumed(conn, run, len(messages)), 60, what="the worker to consume the rest")
            assert await unpublished(conn) > 0
            run.relay.start()  # a new process: it resumes from the cursor, not from the start
            await run.wait_consumed(timeout_s=60)
            run.assert_alive()

            journal = {r["entry_id"]: r for r in await conn.fetch(
                "SELECT entry_id, shard, shard_seq, hash, cause_event_id FROM journal_entries")}
            relayed = dict(await conn.fetch("SELECT shard, shard_seq FROM entries_relayed"))
            heads = dict(await conn.fetch("SELECT shard, shard_seq FROM shard_heads"))
        finally:
            await conn.close()
        records = await read_topic(stack.bootstrap, run.names[ENTRIES])

    posted = [(r, orjson.loads(r.value)) for r in records
              if orjson.loads(r.value)["type"] == "ledger.EntryPosted.v1"]
    counts = Counter(doc["data"]["entry_id"] for _, doc in posted)
    assert set(counts) == set(journal) and max(counts.values()) == 1, "every entry once, across two relay runs"
    assert relayed == heads
    seqs_by_shard = defaultdict(list)
    for record, doc in posted:
        data, row = doc["data"], journal[doc["data"]["entry_id"]]
        assert record.key == row["shard"].encode() and doc["id"] == f"E{row['hash']}"
        cause = causes[row["cause_event_id"]]
        assert (doc["subject"], doc["correlationid"], doc["councilid"], doc["causationid"]) == (
            cause["subject"], cause["correlationid"], cause["councilid"], cause["id"])
        seqs_by_shard[(record.partition, data["shard"])].append(data["shard_seq"])
    for seqs in seqs_by_shard.values():
        assert seqs == sorted(seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def _consumed(conn, run, total: int) -> bool:
    stored = await run.stored_offsets(conn)
    return sum(stored.values()) >= total


async def test_a_standby_relay_takes_over_the_journal_when_the_leader_dies(stack, tmp_path):
    """Two `python -m ledger relay` processes (the chart runs two): one leads the journal source on its
    advisory lock, the other waits; killed, the leader's session ends and the standby publishes the rest."""
    messages = generate(people=6, seed=5, council_id=COUNCIL)
    first, second = messages[: len(messages) // 2], messages[len(messages) // 2:]
    async with module_deployment(stack, tmp_path) as run:
        standby_env = dict(run.env, LEDGER_HEALTH_PORT=str(free_port_pair()))
        standby = localstack.LedgerProcess("relay", standby_env, tmp_path / "standby-relay.log")
        run.start()
        try:
            await produce(stack, first, run.names)
            await run.wait_consumed(timeout_s=60)
            standby.start()
            await asyncio.sleep(1.5)  # the standby has tried the locks and waits
            run.relay.kill()
            await produce(stack, second, run.names)
            await run.wait_consumed(timeout_s=60)  # drained by the standby alone
            assert standby.alive(), standby.log_path.read_text()[-2000:]
            conn = await connect(run.dsn)
            try:
                journal = {r["entry_id"] for r in await conn.fetch("SELECT entry_id FROM journal_entries")}
            finally:
                await conn.close()
        finally:
            standby.kill()
        records = await read_topic(stack.bootstrap, run.names[ENTRIES])
    posted = Counter(orjson.loads(r.value)["data"]["entry_id"] for r in records
                     if orjson.loads(r.value)["type"] == "ledger.EntryPosted.v1")
    assert set(posted) == journal and max(posted.values()) == 1  # killed while idle: nothing twice
