"""Optimistic idempotency against real PostgreSQL with the ledger's schema (migration 0012).

A worker that has not seen an event id in this process decides it as new without reading the processed
log; the database's index of one outcome per event id refuses a second outcome for an id, the batch's write
raises `Rerun`, and after the rollback the worker reads the log and decides the batch as the "always"
mode would: an exact resend changes nothing, changed content under a used id is a DUPLICATE_CONFLICT.
"""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import time

import asyncpg
import orjson
import pytest
from careruntime.consumer import Rerun
from careruntime.migrate import migrate
from ledger.adapters import array_literal, repository
from ledger.config import MIGRATIONS_DIR

from .ledger_harness import snapshot
from .ledger_in_process import P, Record, decoded, in_process_ingest, year_records

pytestmark = [pytest.mark.integration]

def _records() -> dict[str, list[Record]]:
    return year_records(people=4, seed=7)


async def _commit(conn, prepared) -> None:
    async with conn.transaction():
        await prepared.write(conn)


@contextlib.asynccontextmanager
async def _committed_year(fresh_db):
    """A connection to a fresh ledger database holding a small year, decided and committed by one worker,
    and that year's records by topic."""
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        by_topic = _records()
        await _commit(conn, await in_process_ingest().prepare_on(conn, decoded(by_topic)))
        yield conn, by_topic
    finally:
        await conn.close()


def _changed_resend(by_topic: dict[str, list[Record]]) -> tuple[str, dict[str, list[Record]]]:
    """A settled payment's id again, with another bank reference, after the partition's last record."""
    original = next(r for r in by_topic[P] if b"PaymentSettled" in r.value)
    env = orjson.loads(original.value)
    env["data"]["bank_ref"] = "BACS-SOMETHING-ELSE"
    return env["id"], {P: [Record(P, 0, len(by_topic[P]), orjson.dumps(env))]}


async def test_a_resend_from_before_the_process_started_is_rerun_and_then_changes_nothing(fresh_db):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        by_topic = _records()
        first = await in_process_ingest().prepare_on(conn, decoded(by_topic))
        assert first.optimistic and first.rows.journal
        await _commit(conn, first)
        before = await snapshot(conn)

        restarted = in_process_ingest()  # knows nothing of what the database holds
        again = await restarted.prepare_on(conn, decoded(by_topic))
        # Decided as new, without the look-up: each event gets a second outcome (rejections, the budgets
        # being in the database already), which the one-outcome index refuses.
        assert again.optimistic and len(again.rows.processed) == len(first.rows.processed)
        with pytest.raises(Rerun) as refused:
            await _commit(conn, again)
        cause = refused.value.__cause__
        assert isinstance(cause, asyncpg.UniqueViolationError)
        assert cause.constraint_name == repository.ONE_OUTCOME_INDEX
        assert await snapshot(conn) == before  # rolled back whole

        restarted.on_rollback()  # what the consumer does after a rerun
        careful = await restarted.prepare_on(conn, decoded(by_topic))
        assert not careful.optimistic
        assert careful.rows.journal == [] and careful.rows.processed == []  # every event a duplicate
        await _commit(conn, careful)
        assert await snapshot(conn) == before
    finally:
        await conn.close()


async def test_changed_content_under_a_used_id_is_a_conflict_after_the_rerun_and_recorded_once(fresh_db):
    async with _committed_year(fresh_db) as (conn, by_topic):
        event_id, resend = _changed_resend(by_topic)
        before = await snapshot(conn)

        restarted = in_process_ingest()
        optimistic = await restarted.prepare_on(conn, decoded(resend))
        assert optimistic.optimistic
        with pytest.raises(Rerun):
            await _commit(conn, optimistic)
        restarted.on_rollback()
        careful = await restarted.prepare_on(conn, decoded(resend))
        await _commit(conn, careful)
        after = await snapshot(conn)
        for part in ("journal", "heads", "balances", "state"):
            assert after[part] == before[part], part
        new_rows = sorted(set(after["processed"]) - set(before["processed"]))
        assert [(r[0], r[6], r[8]) for r in new_rows] == [(event_id, "rejected", "DUPLICATE_CONFLICT")]

        # The same changed content from yet another fresh worker: refused on the one-outcome index too (the
        # original's row), then an exact resend of the conflict, which records nothing more.
        third = in_process_ingest()
        with pytest.raises(Rerun):
            await _commit(conn, await third.prepare_on(conn, decoded(resend)))
        third.on_rollback()
        await _commit(conn, await third.prepare_on(conn, decoded(resend)))
        assert await snapshot(conn) == after


async def test_ids_past_the_cache_limit_are_forgotten_and_a_resend_of_one_is_still_decided_once(fresh_db):
    async with _committed_year(fresh_db) as (conn, by_topic):
        posted = next(r for r in by_topic[P] if b"PaymentSettled" in r.value)
        limited = in_process_ingest(processed_cache_max=5)
        limited.book.processed.update({f"ev-{n}": ("h", "posted") for n in range(6)})  # over the limit
        before = await snapshot(conn)
        resend = {P: [Record(P, 0, len(by_topic[P]), posted.value)]}  # an exact resend, at a later offset
        prepared = await limited.prepare_on(conn, decoded(resend))
        assert list(limited.book.processed) == [orjson.loads(posted.value)["id"]]  # the rest forgotten
        assert limited.stats["processed_forgotten"] == 1
        with pytest.raises(Rerun):  # decided as new: the database refuses it
            await _commit(conn, prepared)
        limited.on_rollback()
        await _commit(conn, await limited.prepare_on(conn, decoded(resend)))
        assert await snapshot(conn) == before  # an exact resend: nothing new


async def test_the_careful_spell_ends_and_the_always_mode_never_skips_the_look_up(fresh_db):
    async with _committed_year(fresh_db) as (conn, by_topic):
        _, resend = _changed_resend(by_topic)

        brief = in_process_ingest(careful_s=0.2)
        brief.on_rollback()
        assert not (await brief.prepare_on(conn, decoded(resend))).optimistic
        time.sleep(0.3)
        brief.reset()
        assert (await brief.prepare_on(conn, decoded(resend))).optimistic  # the spell is over

        always = in_process_ingest(processed_lookup="always")
        prepared = await always.prepare_on(conn, decoded(resend))
        assert not prepared.optimistic
        await _commit(conn, prepared)  # decided with the look-up: a conflict, not a failure
        assert [r["reason_code"] for r in await conn.fetch(
            "SELECT reason_code FROM processed_events WHERE reason_code IS NOT NULL")] == ["DUPLICATE_CONFLICT"]
        with pytest.raises(ValueError, match="processed_lookup"):
            in_process_ingest(processed_lookup="sometimes")


async def test_the_database_refuses_a_second_outcome_for_an_event_id_and_a_conflict_twice(fresh_db):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        insert = ("INSERT INTO processed_events (event_id, content_hash, council_id, event_type, shard, "
                  "source_offset, outcome, reason_code) VALUES ($1, $2, 'E1', 't', 's:0', $3, $4, $5)")
        await conn.execute(insert, "ev-1", "a" * 64, 0, "posted", None)
        with pytest.raises(asyncpg.UniqueViolationError) as second:
            await conn.execute(insert, "ev-1", "b" * 64, 1, "noted", None)
        assert second.value.constraint_name == "processed_events_one_outcome"
        await conn.execute(insert, "ev-1", "c" * 64, 2, "rejected", "DUPLICATE_CONFLICT")
        with pytest.raises(asyncpg.UniqueViolationError) as twice:
            await conn.execute(insert, "ev-1", "c" * 64, 3, "rejected", "DUPLICATE_CONFLICT")
        assert twice.value.constraint_name == "processed_events_one_outcome"
        await conn.execute(insert, "ev-1", "d" * 64, 4, "rejected", "DUPLICATE_CONFLICT")  # another content
        assert await conn.fetchval("SELECT count(*) FROM processed_events") == 3
    finally:
        await conn.close()


async def test_the_look_up_by_event_id_probes_the_one_outcome_index(fresh_db):
    """The look-up (this code's, and the one before migration 0012, the same statement) must stay an index
    probe per event id: a scan of processed_events per id would cost seconds per batch. The table here is
    small enough for a scan to look cheaper, so scans are priced out: what is checked is that the index
    can serve the statement."""
    async with _committed_year(fresh_db) as (conn, _):
        ids = [r[0] for r in await conn.fetch("SELECT event_id FROM processed_events LIMIT 20")]
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in await conn.fetch(
                "EXPLAIN " + repository._PROCESSED, array_literal.text_array(ids)))
        assert "Index Scan using processed_events_one_outcome" in plan or \
            "Index Only Scan using processed_events_one_outcome" in plan, plan
        assert "Seq Scan on processed_events" not in plan, plan


async def test_migration_0012_keeps_every_row_of_a_ledger_made_before_it(fresh_db, tmp_path):
    """A database at 0011 with outcomes and a conflict in it: 0012 keeps every row, and from then on the
    index refuses a second outcome."""
    before_0012 = tmp_path / "migrations"
    before_0012.mkdir()
    for path in sorted(MIGRATIONS_DIR.iterdir()):
        if path.name < "0012":
            shutil.copy(path, before_0012 / path.name)
    dsn = await fresh_db("ledger", before_0012)
    conn = await asyncpg.connect(dsn)
    try:
        insert = ("INSERT INTO processed_events (event_id, content_hash, council_id, event_type, shard, "
                  "source_offset, outcome, reason_code) VALUES ($1, $2, 'E1', 't', 's:0', $3, $4, $5)")
        await conn.execute(insert, "ev-1", "a" * 64, 0, "posted", None)
        await conn.execute(insert, "ev-1", "b" * 64, 1, "rejected", "DUPLICATE_CONFLICT")
        await conn.execute(insert, "ev-2", "c" * 64, 2, "noted", None)
        rows = await conn.fetch("SELECT * FROM processed_events ORDER BY source_offset")
        assert await asyncio.to_thread(migrate, dsn, MIGRATIONS_DIR) == ["0012.processed_events_one_outcome"]
        assert await conn.fetch("SELECT * FROM processed_events ORDER BY source_offset") == rows
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "ev-2", "d" * 64, 3, "posted", None)
    finally:
        await conn.close()
