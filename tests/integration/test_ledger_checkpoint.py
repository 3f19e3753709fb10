"""Checkpoints of every shard head (migration 0005): taken by the worker in its batch transactions,
chained, refused to change by the database, and checked by `ledger verify`, which thereby catches a shard
cut short with its head moved back — a tamper that each shard's own chain cannot show.

One small journal is posted per module by the ledger's composition root, with a checkpoint on every
batch; each test works on its own copy of that database.
"""
from __future__ import annotations

import asyncio

import asyncpg
import pytest
import pytest_asyncio
from ledger.bootstrap import build_worker
from ledger.config import Settings
from ledger.service.verify import verify

from .ledger_harness import ALLOCATION, ENTRIES, PAYMENTS, connect, database_copy, module_deployment, produce

pytestmark = [pytest.mark.integration]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def checkpointed_db(stack, tmp_path_factory):
    from caretools import localstack
    from caretools.generator import generate

    async with module_deployment(stack, tmp_path_factory.mktemp("ledger-checkpoint")) as run:
        await produce(stack, generate(people=4, seed=3, council_id="E10000098"), run.names)
        settings = Settings(kafka_bootstrap=stack.bootstrap, database_url=run.dsn, group_id=run.group,
                            budget_topics=[run.names[ALLOCATION]], other_topics=[run.names[PAYMENTS]],
                            entries_topic=run.names[ENTRIES], max_defer_seconds=5, max_records=25,
                            checkpoint_interval_s=0.0)
        worker = await build_worker(settings)
        task = asyncio.create_task(worker.consumer.run())
        try:
            await localstack.wait_consumed(run.dsn, run.group, await run.end_offsets(), 60, outbox_empty=False)
        finally:
            worker.consumer.request_stop()
            await asyncio.wait_for(task, 30)
            await worker.pool.close()
        yield run.dsn.rsplit("/", 1)[1]


@pytest.fixture
async def conn(stack, checkpointed_db):
    async with database_copy(stack, checkpointed_db, "t_ledger_cp") as dsn:
        connection = await connect(dsn)
        yield connection
        await connection.close()


async def behind_the_triggers(conn, tables: list[str], *statements: tuple) -> None:
    """What a superuser could do: switch the append-only triggers off, change things, switch them on."""
    async with conn.transaction():
        for table in tables:
            await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql, *args in statements:
            await conn.execute(sql, *args)
        for table in tables:
            await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


async def test_the_worker_checkpoints_every_shard_head_and_verify_passes(conn):
    count = await conn.fetchval("SELECT count(*) FROM ledger_checkpoints")
    assert count >= 2
    last = await conn.fetchrow("SELECT * FROM ledger_checkpoints ORDER BY checkpoint_seq DESC LIMIT 1")
    heads = {r["shard"]: (r["shard_seq"], r["hash"]) for r in await conn.fetch("SELECT * FROM shard_heads")}
    assert dict(zip(last["shards"], zip(last["shard_seqs"], last["hashes"]))) == heads
    report = await verify(conn)
    assert report.ok, report.problems


async def test_the_database_refuses_to_change_a_checkpoint(conn):
    for sql in ("UPDATE ledger_checkpoints SET hash = prev_hash", "DELETE FROM ledger_checkpoints",
                "TRUNCATE ledger_checkpoints"):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await conn.execute(sql)


async def test_verify_catches_a_shard_cut_short_with_its_head_moved_back(conn):
    # The last entry of a shard goes, with every trace of it: its outcome, its effect on the balances,
    # and the shard head moves back to the entry before. The shard's chain is intact; only a checkpoint
    # that recorded the old head can tell.
    last = await conn.fetchrow("""SELECT e.* FROM journal_entries e JOIN shard_heads h
                                     ON h.shard = e.shard AND h.shard_seq = e.shard_seq AND e.shard_seq > 1
                                  ORDER BY e.shard LIMIT 1""")
    before = await conn.fetchrow("SELECT hash FROM journal_entries WHERE shard = $1 AND shard_seq = $2",
                                 last["shard"], last["shard_seq"] - 1)
    undo = [("UPDATE accounts SET balance_pence = balance_pence - $2 + $3 WHERE account = $1", a, d, c)
            for a, d, c in zip(last["accounts"], last["debits"], last["credits"])]
    await behind_the_triggers(
        conn, ["journal_entries", "processed_events"],
        ("DELETE FROM journal_entries WHERE entry_id = $1", last["entry_id"]),
        ("DELETE FROM processed_events WHERE entry_id = $1", last["entry_id"]),
        ("UPDATE shard_heads SET shard_seq = $2, hash = $3 WHERE shard = $1",
         last["shard"], last["shard_seq"] - 1, before["hash"]),
        *undo)
    report = await verify(conn)
    assert report.problems == [
        f"{last['shard']}: checkpoint {await conn.fetchval('SELECT max(checkpoint_seq) FROM ledger_checkpoints')}"
        f" recorded seq {last['shard_seq']}, not in the journal"]


async def test_verify_catches_an_edited_checkpoint_and_a_broken_checkpoint_chain(conn):
    middle = await conn.fetchval("SELECT checkpoint_seq FROM ledger_checkpoints ORDER BY checkpoint_seq "
                                 "OFFSET (SELECT count(*) / 2 FROM ledger_checkpoints) LIMIT 1")
    await behind_the_triggers(
        conn, ["ledger_checkpoints"],
        ("UPDATE ledger_checkpoints SET shard_seqs[1] = shard_seqs[1] - 1 WHERE checkpoint_seq = $1", middle),
        ("UPDATE ledger_checkpoints SET prev_hash = repeat('f', 64) WHERE checkpoint_seq = $1", middle + 1))
    problems = (await verify(conn)).problems
    assert f"checkpoint {middle}: hash does not match its content" in problems
    assert f"checkpoint {middle + 1}: prev_hash does not match the previous checkpoint's hash" in problems
