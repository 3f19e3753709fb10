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
