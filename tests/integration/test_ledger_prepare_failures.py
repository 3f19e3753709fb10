"""Preparing a batch reads what the book lacks while it builds and orders the batch's events: whichever
of the two fails, the batch fails whole, the book is dropped, and the connection is left usable (the read
is cancelled, not abandoned mid-query). Real PostgreSQL with the ledger's schema."""
import asyncio

import asyncpg
import pytest
from ledger.adapters import repository
from ledger.service import deciding

from .ledger_in_process import decoded, in_process_ingest, year_records


def _batch():
    return decoded(year_records(people=4, seed=5))


async def test_a_failed_read_fails_the_batch_and_drops_the_book(fresh_db):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        await conn.execute("ALTER TABLE ledger_state RENAME TO ledger_state_gone")  # the read will fail
        ingest = in_process_ingest()
        ingest.book.balances["sentinel"] = 1
        with pytest.raises(asyncpg.UndefinedTableError):
            await ingest.prepare_on(conn, _batch())
        assert "sentinel" not in ingest.book.balances  # dropped: the book is a cache of what is committed
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def test_a_failure_while_building_cancels_the_read_and_leaves_the_connection_usable(fresh_db, monkeypatch):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        built, build = [], deciding.build

        def broken(*args):  # fails part way, once the read is under way (building yields every 16 events)
            built.append(1)
            if len(built) > 2:
                raise RuntimeError("building the event failed")
            return build(*args)

        reads, load_slice = [], repository.load_slice

        async def watched(*args):
            reads.append(asyncio.current_task())
            return await load_slice(*args)

        monkeypatch.setattr(deciding, "build", broken)
        monkeypatch.setattr(repository, "load_slice", watched)
        ingest = in_process_ingest()
        with pytest.raises(RuntimeError, match="building the event failed"):
            await ingest.prepare_on(conn, _batch())
        assert len(reads) == 1 and reads[0].cancelled()  # the read had started, and was cancelled, not left
        assert await conn.fetchval("SELECT 1") == 1
        monkeypatch.undo()
        prepared = await in_process_ingest().prepare_on(conn, _batch())  # and the same batch then goes through
        assert prepared.rows.journal and prepared.rows.processed
    finally:
        await conn.close()
