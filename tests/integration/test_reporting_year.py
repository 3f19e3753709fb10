"""The reporting service over a real ledger: a synthetic year (with bad input) goes through the ledger's
worker and relay; then the projections are rebuilt from the journal and from the topics, kept by the live
worker, resumed after an interruption, and every report must come out the same to the penny."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import asyncpg
import pytest
import pytest_asyncio
from reporting.reports import ReportQuery, run_report
from reporting.service.ledger_sync import sync_outcomes
from reporting.service.rebuild import rebuild_from_journal, rebuild_from_topics

from .ledger_harness import module_deployment
from .outage_harness import hold_outage
from .reporting_harness import (
    COUNCIL, Databases, ReportingWorker, all_reports, feed, pool_for, projection_differences, projection_rows,
    settings_for, split_year,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PEOPLE, SEED = 40, 1
DATES = (date(2026, 6, 30), date(2026, 12, 31), date(2027, 3, 31))


async def differences(dsn: str, other_dsn: str) -> str:
    """What tells the projections of two databases apart ("" when they hold the same rows in the same order)."""
    return projection_differences(await projection_rows(dsn), await projection_rows(other_dsn))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def year(stack, tmp_path_factory):
    async with module_deployment(stack, tmp_path_factory.mktemp("reporting-year")) as run:
        valid, bad = split_year(PEOPLE, SEED)
        run.start()
        await feed(run, valid + bad)
        dbs = Databases(stack)
        try:
            yield run, dbs
        finally:
            await dbs.drop_all()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def journal_db(stack, year):
    run, dbs = year
    dsn = await dbs.new()
    settings = settings_for(stack, dsn, run)
    pool = await pool_for(dsn)
    try:
        result = await rebuild_from_journal(settings, pool, progress=False)
    finally:
        await pool.close()
    return dsn, result


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def topics_db(stack, year):
    run, dbs = year
    dsn = await dbs.new()
    pool = await pool_for(dsn)
    try:
        result = await rebuild_from_topics(settings_for(stack, dsn, run), pool, progress=False)
        # A noted event leaves no message on ledger.entries: "every event accounted for" needs the ledger's
        # outcome log, which a rebuild from the journal copies and a rebuild from the topics syncs like this.
        await sync_outcomes(run.dsn, pool)
    finally:
        await pool.close()
    return dsn, result


async def test_rebuild_from_the_journal_equals_rebuild_from_the_topics(year, journal_db, topics_db):
    run, _ = year
    (jdsn, jres), (tdsn, tres) = journal_db, topics_db
    conn = await asyncpg.connect(run.dsn)
    try:
        journal_count = await conn.fetchval("SELECT count(*) FROM journal_entries")
        rejected = await conn.fetchval("SELECT count(*) FROM processed_events WHERE outcome = 'rejected'")
    finally:
        await conn.close()
    assert journal_count > 500 and rejected > 0
    assert jres.entries == journal_count and jres.rejections == rejected, jres
    assert (tres.entries, tres.rejections) == (journal_count, rejected)
    diff = await differences(jdsn, tdsn)
    assert not diff, diff
    for as_of in DATES:
        query = ReportQuery(COUNCIL, as_of)
        assert await all_reports(jdsn, query) == await all_reports(tdsn, query), as_of


def worker_alive(worker: ReportingWorker) -> None:
    assert worker.proc.poll() is None, worker.log_path.read_text()[-3000:]


async def caught_up(dsn: str, expected: dict[str, list[tuple]], worker: ReportingWorker) -> dict[str, list[tuple]]:
    """The projection rows of `dsn` once each table holds as many rows as `expected` (within 2 minutes), the
    worker alive all along."""
    for _ in range(240):
        rows = await projection_rows(dsn)
        if all(len(rows[t]) == len(expected[t]) for t in expected):
            break
        worker_alive(worker)
        await asyncio.sleep(0.5)
    return rows


async def test_the_live_worker_projects_the_same_rows_as_a_rebuild(stack, year, journal_db, tmp_path):
    run, dbs = year
    dsn = await dbs.new()
    worker = ReportingWorker(settings_for(stack, dsn, run), tmp_path / "reporting-worker.log")
    worker.start()
    expected = await projection_rows(journal_db[0])
    try:
        rows = await caught_up(dsn, expected, worker)
    finally:
        worker.stop()
    diff = projection_differences(rows, expected)
    assert not diff, diff


async def test_an_interrupted_journal_rebuild_resumes_to_the_same_projection(stack, year, journal_db):
    run, dbs = year
    dsn = await dbs.new()
    settings = settings_for(stack, dsn, run)
    pool = await pool_for(dsn)
    try:
        task = asyncio.create_task(rebuild_from_journal(settings, pool, progress=False, chunk=200))
        async with pool.acquire() as conn:
            for _ in range(400):
                done = await conn.fetchval("SELECT done_upto FROM rp_rebuilds WHERE source = 'journal'")
                if done:
                    break
                await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with pool.acquire() as conn:
            state = await conn.fetchrow("SELECT * FROM rp_rebuilds WHERE source = 'journal'")
            copied = await conn.fetchval("SELECT count(*) FROM rp_entries")
        assert state["finished_at"] is None and 0 < state["done_upto"] < state["target"]
        assert 0 < copied < len((await projection_rows(journal_db[0]))["rp_entries"])
        result = await rebuild_from_journal(settings, pool, resume=True, progress=False, chunk=200)
        assert 0 < result.entries < copied + result.entries  # the resumed run copied only the rest
    finally:
        await pool.close()
    diff = await differences(dsn, journal_db[0])
    assert not diff, diff


async def test_reports_of_one_council_never_include_another_councils_rows(year, journal_db):
    run, dbs = year
    dsn = await dbs.new()
    other = "E10000011"
    conn = await asyncpg.connect(dsn)
    src = await asyncpg.connect(journal_db[0])
    try:
        # The same year again under another council, with every ledger amount doubled: the same budget, order,
        # provider and invoice ids, so a report that forgot the council filter would mix the two.
        for table in ("rp_entries", "rp_rejections", "rp_domain_events", "rp_outcomes"):
            rows = await src.fetch(f"SELECT * FROM {table}")
            await conn.copy_records_to_table(table, records=[tuple(r.values()) for r in rows])
        await conn.execute(f"""INSERT INTO rp_entries SELECT entry_id || '-x', '{other}', shard || '-x', shard_seq,
            effective_date, recorded_at, cause_event_id || '-x', cause_type, rule_version, reverses_entry_id,
            (SELECT array_agg(replace(a, '{COUNCIL}/', '{other}/')) FROM unnest(accounts) a),
            (SELECT array_agg(d * 2) FROM unnest(debits) d), (SELECT array_agg(c * 2) FROM unnest(credits) c),
            prev_hash, hash FROM rp_entries WHERE council_id = '{COUNCIL}'""")
        await conn.execute(f"""INSERT INTO rp_domain_events SELECT event_id || '-x', content_hash, '{other}', type, subject,
            effective_date, recorded_at, topic, partition, "offset", data FROM rp_domain_events""")
        await conn.execute(f"""INSERT INTO rp_rejections SELECT rejection_id || '-x', '{other}', cause_event_id || '-x',
            cause_type, shard, reason_code, detail, effective_date, recorded_at FROM rp_rejections""")
    finally:
        await conn.close()
        await src.close()
    for as_of in DATES:
        query = ReportQuery(COUNCIL, as_of)
        assert await all_reports(dsn, query) == await all_reports(journal_db[0], query), as_of
    conn = await asyncpg.connect(dsn)
    try:
        mine = await run_report(conn, "trial_balance", ReportQuery(COUNCIL, DATES[-1]))
        theirs = await run_report(conn, "trial_balance", ReportQuery(other, DATES[-1]))
    finally:
        await conn.close()
    assert theirs.as_dicts()[-1]["debit_pence"] == 2 * mine.as_dicts()[-1]["debit_pence"] > 0



async def test_an_interrupted_topic_rebuild_resumes_from_its_stored_offsets(stack, year, journal_db):
    run, dbs = year
    dsn = await dbs.new()
    settings = settings_for(stack, dsn, run).model_copy(update={"max_records": 50})
    pool = await pool_for(dsn)
    try:
        task = asyncio.create_task(rebuild_from_topics(settings, pool, progress=False))
        async with pool.acquire() as conn:
            for _ in range(2000):
                stored = await conn.fetchval("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets "
                                             "WHERE group_id = $1", settings.group_id)
                if stored >= 200:
                    break
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            partial = await conn.fetchval("SELECT (SELECT count(*) FROM rp_domain_events) + (SELECT count(*) FROM rp_entries)")
            state = await conn.fetchrow("SELECT * FROM rp_rebuilds WHERE source = 'topics'")
        full = await projection_rows(journal_db[0])
        assert state["finished_at"] is None and 0 < partial < len(full["rp_domain_events"]) + len(full["rp_entries"])
        result = await rebuild_from_topics(settings, pool, resume=True, progress=False)
        await sync_outcomes(run.dsn, pool)
        async with pool.acquire() as conn:
            after = await conn.fetchrow("SELECT * FROM rp_rebuilds WHERE source = 'topics'")
    finally:
        await pool.close()
    assert after["started_at"] == state["started_at"] and after["finished_at"] is not None  # carried on, not restarted
    assert result.entries == len((await projection_rows(journal_db[0]))["rp_entries"])
    diff = await differences(dsn, journal_db[0])
    assert not diff, diff


async def test_replaying_up_to_a_moment_gives_the_reports_as_known_at_that_moment(stack, year, journal_db):
    """DOMAIN rule 8: replaying the events up to any moment yields the same reports, to the penny."""
    run, dbs = year
    moment = datetime(2026, 10, 1, 0, 0, tzinfo=timezone.utc)
    until_journal, until_topics = await dbs.new(), await dbs.new()
    for dsn, rebuild in ((until_journal, rebuild_from_journal), (until_topics, rebuild_from_topics)):
        pool = await pool_for(dsn)
        try:
            await rebuild(settings_for(stack, dsn, run), pool, progress=False, until=moment)
            await sync_outcomes(run.dsn, pool)
        finally:
            await pool.close()
    diff = await differences(until_journal, until_topics)
    assert not diff, diff
    for as_of in DATES:
        then = await all_reports(journal_db[0], ReportQuery(COUNCIL, as_of, known_at=moment))
        assert await all_reports(until_journal, ReportQuery(COUNCIL, as_of)) == then, as_of
    full = await all_reports(journal_db[0], ReportQuery(COUNCIL, DATES[-1]))
    assert full["trial_balance"] != then["trial_balance"]  # the moment is mid-year: later facts exist


async def test_the_live_worker_rides_out_a_postgresql_outage_to_the_same_rows(stack, year, journal_db, tmp_path,
                                                                              postgres_outage):
    """PostgreSQL stopped for ~10 s while the worker projects (small batches, so it is mid-stream): it stays up,
    /readyz 503 naming postgres, then carries on by itself to the same rows as a rebuild (and as the fault-free
    live worker above)."""
    run, dbs = year
    dsn = await dbs.new()
    worker = ReportingWorker(settings_for(stack, dsn, run), tmp_path / "reporting-worker.log")
    worker.env["REPORTING_MAX_RECORDS"] = "10"
    port = int(worker.env["REPORTING_HEALTH_PORT"])
    expected = await projection_rows(journal_db[0])
    worker.start()
    try:
        conn = await asyncpg.connect(dsn)
        try:
            for _ in range(600):
                if await conn.fetchval("SELECT count(*) FROM rp_entries"):
                    break
                await asyncio.sleep(0.02)
        finally:
            await conn.close()
        before = sum(map(len, (await projection_rows(dsn)).values()))
        assert before < sum(map(len, expected.values())), "done before the outage"
        await hold_outage(postgres_outage, 10, [port], lambda: worker_alive(worker))
        rows = await caught_up(dsn, expected, worker)
    finally:
        worker.stop()
    diff = projection_differences(rows, expected)
    assert not diff, diff
