"""The journal's text-format COPY stores exactly what asyncpg's binary COPY stores (real PostgreSQL)."""
from __future__ import annotations

from datetime import date

import asyncpg
import pytest
from ledger.adapters import repository, snapshot
from ledger.adapters.journal_copy import text_data
from ledger.domain import chain

COLUMNS = ", ".join(repository.JOURNAL_COLUMNS)


def entries(prefix: str, n: int) -> list[tuple]:
    """Balanced, chained rows like the ledger writes: 2 or 3 lines, NULL and set reversals, unicode-free ids."""
    rows, prev = [], chain.GENESIS
    for i in range(1, n + 1):
        lines = [(f"E1/committed/PB-{i}", 100 * i, 0), (f"E1/budget/PB-{i}", 5, 0), (f"E1/pending/PB-{i}", 0, 100 * i + 5)]
        lines = lines if i % 2 else [lines[0], (f"E1/pending/PB-{i}", 0, 100 * i)]
        reverses = f"earlier.topic:0:{i - 1}" if i % 3 == 0 else None
        effective = date(1999 + i % 40, 1 + i % 12, 1 + i % 28)
        text = chain.canonical(f"{prefix}:{i}", effective.isoformat(), "2027-04-09T12:05:00.004941+00:00", f"ev-{i}",
                               "payments.PaymentInstructed.v1", "2026.1", reverses, lines)
        digest = chain.link(prev, text)
        rows.append((f"{prefix}:{i}", prefix, i, "E1", effective, "2027-04-09T12:05:00.004941+00:00", f"ev-{i}",
                     "payments.PaymentInstructed.v1", "2026.1", reverses, [a for a, _, _ in lines],
                     [d for _, d, _ in lines], [c for _, _, c in lines], prev, digest, f"PB-{i}", f"corr-{i % 7}"))
        prev = digest
    return rows


async def test_text_and_binary_copy_store_identical_rows(fresh_db):
    dsn = await fresh_db("ledger")
    conn = await asyncpg.connect(dsn)
    try:
        text_rows, binary_rows = entries("text.topic:0", 300), entries("binary.topic:0", 300)
        assert text_data(text_rows) is not None  # these rows take the text path
        await repository.write_rows(conn, await repository.render(snapshot.BatchRows(journal=text_rows)))
        await conn.copy_records_to_table("journal_entries", records=binary_rows, columns=repository.JOURNAL_COLUMNS)
        stored = {shard: [tuple(r)[3:] for r in await conn.fetch(
            f"SELECT {COLUMNS} FROM journal_entries WHERE shard = $1 ORDER BY shard_seq", shard)]
            for shard in ("text.topic:0", "binary.topic:0")}
        assert len(stored["text.topic:0"]) == 300
        # everything but the ids (which name the shard) and the chain (over the ids) is the same
        assert [r[:-4] + r[-2:] for r in stored["text.topic:0"]] == [r[:-4] + r[-2:] for r in stored["binary.topic:0"]]
        assert [tuple(r[3:]) for r in text_rows] == stored["text.topic:0"]  # and what was sent is what is stored
    finally:
        await conn.close()


def changed(rows: list[tuple], changes: list[tuple[int, int, object]]) -> list[tuple]:
    """`rows` with value `column` of row `n` replaced, for each (n, column, value)."""
    rows = [list(row) for row in rows]
    for n, column, value in changes:
        rows[n][column] = value
    return [tuple(row) for row in rows]


@pytest.mark.parametrize(("changes", "path"), [
    # cause_event_id (the journal does not check its pattern) with a backslash: binary COPY
    ([(1, 6, "ev with space, comma and \\ backslash")], "binary"),
    # spaces, commas, braces, quotes and a vertical tab outside the arrays: still text, read back as sent
    ([(0, 6, "ev with space, comma"), (1, 15, '{"subject"} x'), (2, 8, "r\x0bv")], "text"),
])
async def test_odd_values_are_stored_exactly_as_sent_by_whichever_copy_takes_them(fresh_db, changes, path):
    dsn = await fresh_db("ledger")
    conn = await asyncpg.connect(dsn)
    try:
        rows = changed(entries(f"{path}.topic:0", 4), changes)
        assert (text_data(rows) is None) == (path == "binary")
        await repository.write_rows(conn, await repository.render(snapshot.BatchRows(journal=rows)))
        stored = [tuple(r) for r in await conn.fetch(f"SELECT {COLUMNS} FROM journal_entries ORDER BY shard_seq")]
        assert stored == [tuple(r) for r in rows]
    finally:
        await conn.close()


async def test_a_non_integer_amount_is_refused_by_postgresql_not_stored_as_something_else(fresh_db):
    """Amounts go as str(value); the domain only makes ints, but a stray "0,5" must not become two lines."""
    dsn = await fresh_db("ledger")
    conn = await asyncpg.connect(dsn)
    try:
        rows = entries("amounts.topic:0", 1)
        bad = changed(rows, [(0, 11, [rows[0][11][0], "0,5", *rows[0][11][2:]])])  # debits: one reads as two
        text = text_data(bad)
        assert text is not None and b"{100,0,5" in text
        with pytest.raises(asyncpg.exceptions.CheckViolationError):
            await repository.write_rows(conn, await repository.render(snapshot.BatchRows(journal=bad)))
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 0
    finally:
        await conn.close()


async def test_processed_events_in_text_copy_are_stored_exactly_as_sent_whatever_the_detail(fresh_db):
    """The processed-event log goes by text COPY with escaping: any detail text survives unchanged."""
    dsn = await fresh_db("ledger")
    conn = await asyncpg.connect(dsn)
    nasty = ["tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\.", "a\\tb", "£ and ünïcödé",
             "", " spaced , {braces} \"quotes\"", None]
    try:
        rows = [(f"ev-{i}", f"{i:064x}", "E1", "payments.PaymentInstructed.v1", "payments.events.v1:0", i,
                 "rejected" if detail is not None else "posted", None if detail is not None else f"entry-{i}",
                 "NO_SUCH_BUDGET" if detail is not None else None, detail)
                for i, detail in enumerate(nasty)]
        await repository.write_rows(conn, await repository.render(snapshot.BatchRows(processed=rows)))
        stored = [tuple(r) for r in await conn.fetch(
            f"SELECT {', '.join(repository.PROCESSED_COLUMNS)} FROM processed_events ORDER BY source_offset")]
        assert stored == rows
    finally:
        await conn.close()
