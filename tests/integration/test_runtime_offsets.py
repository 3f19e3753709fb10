"""Offsets in PostgreSQL: load and save in one statement, and compare-and-set fencing between two
transactions that both believe they own a partition."""
from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka.structs import TopicPartition

from careruntime.offsets import OffsetConflict, load_offsets, save_offsets

pytestmark = pytest.mark.integration

A, B, C = TopicPartition("in", 0), TopicPartition("in", 1), TopicPartition("other", 0)


@pytest.fixture
async def pool(fresh_db, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_plumbing.py").write_text(
        "from yoyo import step\nfrom careruntime.sql import PLUMBING_SQL\nsteps = [step(PLUMBING_SQL)]\n")
    pool = await asyncpg.create_pool(await fresh_db("runtime", migrations_dir=folder), min_size=2, max_size=4)
    yield pool
    await pool.close()


async def test_save_and_load_per_group(pool):
    async with pool.acquire() as conn:
        assert await load_offsets(conn, "g", [A, B]) == {}
        await save_offsets(conn, "g", {A: 10, B: 3})
        await save_offsets(conn, "g", {A: 12})
        await save_offsets(conn, "h", {A: 99, C: 1})
        assert await load_offsets(conn, "g", [A, B, C]) == {A: 12, B: 3}
        assert await load_offsets(conn, "h", [A, C]) == {A: 99, C: 1}
        assert await load_offsets(conn, "g", []) == {}


async def test_compare_and_set_moves_only_from_the_expected_value(pool):
    async with pool.acquire() as conn:
        await save_offsets(conn, "g", {A: 10}, expected={A: None})  # first save inserts
        await save_offsets(conn, "g", {A: 20, B: 5}, expected={A: 10, B: None})
        with pytest.raises(OffsetConflict) as caught:
            async with conn.transaction():
                await save_offsets(conn, "g", {A: 30, B: 6}, expected={A: 10, B: 5})  # A moved on: 20
        assert caught.value.partitions == [A]
        with pytest.raises(OffsetConflict):
            async with conn.transaction():
                await save_offsets(conn, "g", {B: 9}, expected={B: None})  # B exists already
        assert await load_offsets(conn, "g", [A, B]) == {A: 20, B: 5}  # both rolled back whole


async def test_two_owners_racing_for_one_partition_only_one_wins(pool):
    async with pool.acquire() as setup:
        await save_offsets(setup, "g", {A: 100})
    first, second = await pool.acquire(), await pool.acquire()
    try:
        t1 = first.transaction()
        await t1.start()
        await save_offsets(first, "g", {A: 150}, expected={A: 100})  # holds the row lock
        t2 = second.transaction()
        await t2.start()
        waiting = asyncio.create_task(save_offsets(second, "g", {A: 130}, expected={A: 100}))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # blocked on the row lock, not deciding on a stale read
        await t1.commit()
        with pytest.raises(OffsetConflict):
            await waiting
        await t2.rollback()
        assert await load_offsets(first, "g", [A]) == {A: 150}
    finally:
        await pool.release(first)
        await pool.release(second)
