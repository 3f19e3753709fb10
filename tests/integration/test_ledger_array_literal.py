"""array_literal and sqltext: what they write read back by PostgreSQL as exactly the values sent."""
from __future__ import annotations

import asyncpg
from ledger.adapters.array_literal import int_array, text_array
from ledger.adapters.sqltext import bind

NASTY = ["plain", "", None, "NULL", "null", " spaced ", "tab\there", "new\nline", "comma,here", "{braces}",
         'quote"d', "back\\slash", "\\N", "£ ünïcödé", "a\\\"b", "}", "{", ",", "it's", "''", "\\'", "E'x'", "$1", "$$"]


async def test_text_and_integer_arrays_round_trip(fresh_db):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        assert await conn.fetchval("SELECT $1::text::text[]", text_array(NASTY)) == NASTY
        assert await conn.fetchval("SELECT $1::text::text[]", text_array([])) == []
        numbers = [0, 1, -1, 2**63 - 1, -2**63]
        assert await conn.fetchval("SELECT $1::text::bigint[]", int_array(numbers)) == numbers
    finally:
        await conn.close()


async def test_sql_literals_read_back_as_exactly_the_values_written(fresh_db):
    """careruntime.sqltext: a script of literals (simple-query protocol) returns every value unchanged,
    including array literals written into it, whatever standard_conforming_strings says."""
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        for conforming in ("on", "off"):
            await conn.execute(f"SET standard_conforming_strings = {conforming}")
            await conn.execute("CREATE TEMP TABLE IF NOT EXISTS seen (n int, v text, a text[]); TRUNCATE seen")
            script = ";\n".join(bind("INSERT INTO seen VALUES ($1, $2, $3::text::text[])", (n, value, text_array(NASTY)))
                                for n, value in enumerate(NASTY))
            await conn.execute(script)
            rows = await conn.fetch("SELECT v, a FROM seen ORDER BY n")
            assert [r["v"] for r in rows] == NASTY
            assert all(r["a"] == NASTY for r in rows)
    finally:
        await conn.close()


async def test_working_state_json_texts_are_stored_exactly_as_written(fresh_db):
    """repository.render sends the state objects' JSON texts as one text split at record separators:
    whatever a JSON text holds (quotes, backslashes, escaped control characters, any Unicode) comes back
    as written, and a text that holds a raw separator is refused before anything is sent."""
    import orjson
    import pytest
    from ledger.adapters import repository
    from ledger.adapters.snapshot import BatchRows

    texts = [orjson.dumps({"note": value}).decode() for value in NASTY if value is not None]
    texts += [orjson.dumps({"control": "\x1e\x1f\x00\x07", "sources": [["a", 1]]}).decode()]
    keys = [f"k{n}" for n in range(len(texts))]
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        rows = BatchRows(state=(["holds"] * len(texts), keys, ["C1"] * len(texts), texts))
        async with conn.transaction():
            await repository.write_rows(conn, await repository.render(rows))
        stored = {r["key"]: r["data"] for r in await conn.fetch("SELECT key, data FROM ledger_state")}
        assert stored == dict(zip(keys, texts, strict=True))
        with pytest.raises(ValueError, match="record separator"):
            await repository.render(BatchRows(state=(["holds"], ["x"], ["C1"], ['{"raw":"\x1e"}'])))
    finally:
        await conn.close()


async def test_balances_of_stored_accounts_are_updated_and_a_missing_one_fails_the_batch(fresh_db):
    """render sends stored accounts to ledger_add_to_balances (migration 0010) and the rest to the upsert;
    an account taken for stored that has no row fails the whole batch instead of losing its movement."""
    import asyncpg.exceptions
    import pytest
    from ledger.adapters import repository
    from ledger.adapters.snapshot import BatchRows

    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        first = await repository.render(BatchRows(deltas={"C1/bank": -500, "C1/budget/PB-1": 500}))
        assert "ledger_add_to_balances" not in first.statements  # nothing stored yet: all by upsert
        async with conn.transaction():
            await repository.write_rows(conn, first)
        second = await repository.render(BatchRows(deltas={"C1/bank": -70, "C1/budget/PB-1": 30, "C1/budget/PB-2": 40}),
                                         repository.Stored(accounts={"C1/bank", "C1/budget/PB-1"}))
        assert "ledger_add_to_balances" in second.statements and "ON CONFLICT (account)" in second.statements
        async with conn.transaction():
            await repository.write_rows(conn, second)
        balances = dict(await conn.fetch("SELECT account, balance_pence FROM accounts"))
        assert balances == {"C1/bank": -570, "C1/budget/PB-1": 530, "C1/budget/PB-2": 40}
        wrong = await repository.render(BatchRows(deltas={"C1/bank": -1, "C1/budget/PB-9": 1}),
                                        repository.Stored(accounts={"C1/bank", "C1/budget/PB-9"}))
        with pytest.raises(asyncpg.exceptions.NoDataFoundError, match="1 of 2 accounts exist"):
            async with conn.transaction():
                await repository.write_rows(conn, wrong)
        assert dict(await conn.fetch("SELECT account, balance_pence FROM accounts")) == balances
    finally:
        await conn.close()


async def test_accounts_of_a_loaded_owner_not_stored_are_inserted_and_one_that_exists_fails_the_batch(fresh_db):
    """An account not stored whose owner `load_slice` read in full is new: plain INSERT (no ON CONFLICT);
    one whose owner was not read still goes by the upsert. Taking an existing account for new fails the
    batch with a unique violation and changes nothing."""
    import asyncpg.exceptions
    import pytest
    from ledger.adapters import repository
    from ledger.adapters.snapshot import BatchRows
    from ledger.domain.model import Book

    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        async with conn.transaction():
            await repository.write_rows(conn, await repository.render(BatchRows(deltas={"C1/bank": -5, "C1/budget/PB-1": 5})))
        stored = repository.Stored()
        await repository.load_slice(conn, Book(), {"budget_id": {"PB-1", "PB-2"}}, set(), stored)
        assert stored.owners == {"PB-1", "PB-2"} and stored.accounts == {"C1/budget/PB-1"}
        rendered = await repository.render(
            BatchRows(deltas={"C1/bank": -30, "C1/budget/PB-1": 10, "C1/funding/PB-2/icb": 20}), stored)
        inserts = [s for s in rendered.statements.split(";\n") if s.lstrip().startswith("INSERT INTO accounts")]
        assert len(inserts) == 2  # PB-2's account by plain INSERT, the bank (owner never read) by upsert
        assert sum("ON CONFLICT (account)" in s for s in inserts) == 1
        assert "C1/funding/PB-2/icb" in next(s for s in inserts if "ON CONFLICT" not in s)
        async with conn.transaction():
            await repository.write_rows(conn, rendered)
        balances = dict(await conn.fetch("SELECT account, balance_pence FROM accounts"))
        assert balances == {"C1/bank": -35, "C1/budget/PB-1": 15, "C1/funding/PB-2/icb": 20}
        wrong = await repository.render(BatchRows(deltas={"C1/bank": -1, "C1/funding/PB-2/icb": 1}),
                                        repository.Stored(owners={"PB-2"}))
        with pytest.raises(asyncpg.exceptions.UniqueViolationError):
            async with conn.transaction():
                await repository.write_rows(conn, wrong)
        assert dict(await conn.fetch("SELECT account, balance_pence FROM accounts")) == balances
    finally:
        await conn.close()


async def test_state_not_stored_is_inserted_and_a_key_that_exists_after_all_fails_the_batch(fresh_db):
    """Working state the worker has not seen stored goes by plain INSERT; stored state is upserted; a key
    taken for new that has a row fails the batch (a unique violation) and changes nothing."""
    import asyncpg.exceptions
    import pytest
    from ledger.adapters import repository
    from ledger.adapters.snapshot import BatchRows

    def state(*rows):
        return BatchRows(state=tuple(list(column) for column in zip(*rows)) if rows else ([], [], [], []))

    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        stored = repository.Stored()
        first = await repository.render(state(("holds", "P1", "C1", '{"v":1}'), ("budgets", "B1", "C1", '{"v":1}')), stored)
        assert "ON CONFLICT (kind, key)" not in first.statements  # all new
        async with conn.transaction():
            await repository.write_rows(conn, first)
        stored.record(state(("holds", "P1", "C1", ""), ("budgets", "B1", "C1", "")))
        second = await repository.render(state(("holds", "P1", "C1", '{"v":2}'), ("holds", "P2", "C1", '{"v":1}')), stored)
        assert "ON CONFLICT (kind, key)" in second.statements
        async with conn.transaction():
            await repository.write_rows(conn, second)
        rows = dict(((r["kind"], r["key"]), r["data"]) for r in await conn.fetch("SELECT kind, key, data FROM ledger_state"))
        assert rows == {("holds", "P1"): '{"v":2}', ("budgets", "B1"): '{"v":1}', ("holds", "P2"): '{"v":1}'}
        wrong = await repository.render(state(("budgets", "B1", "C1", '{"v":9}')), repository.Stored())
        with pytest.raises(asyncpg.exceptions.UniqueViolationError):
            async with conn.transaction():
                await repository.write_rows(conn, wrong)
        assert await conn.fetchval("SELECT data FROM ledger_state WHERE key = 'B1'") == '{"v":1}'
    finally:
        await conn.close()
