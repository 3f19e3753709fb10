"""array_literal's text parameters read back by PostgreSQL as exactly the values sent."""
from __future__ import annotations

import asyncpg
from ledger.adapters.array_literal import int_array, text_array

NASTY = ["plain", "", None, "NULL", "null", " spaced ", "tab\there", "new\nline", "comma,here", "{braces}",
         'quote"d', "back\\slash", "\\N", "£ ünïcödé", "a\\\"b", "}", "{", ","]


async def test_text_and_integer_arrays_round_trip(fresh_db):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        assert await conn.fetchval("SELECT $1::text::text[]", text_array(NASTY)) == NASTY
        assert await conn.fetchval("SELECT $1::text::text[]", text_array([])) == []
        numbers = [0, 1, -1, 2**63 - 1, -2**63]
        assert await conn.fetchval("SELECT $1::text::bigint[]", int_array(numbers)) == numbers
    finally:
        await conn.close()
