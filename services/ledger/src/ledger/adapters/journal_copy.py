"""Journal rows as COPY text data, when every value is plain enough to need no escaping or quoting.

Why: asyncpg's `copy_records_to_table` spends ~3.1 µs of client CPU per journal row, ~2.9 of it on the
three arrays (accounts, debits, credits), checking each element against `collections.abc`. A row of
COPY text costs ~0.8 µs (compiled with the decision code, ledger.native: one `"\\t".join` per row), and
PostgreSQL parses it in about the time it decodes the binary rows (docs/performance.md).

Exactness first: COPY's text format gives meaning to backslashes, tabs, newlines and carriage returns in
any value, and an array literal to commas, braces, double quotes, whitespace, an empty element and a bare
NULL in its elements. Ledger ids, accounts, hashes and ISO times never hold any of them, but this module
does not rely on that: `text_data` returns None unless the batch's text holds exactly the tabs, newlines
and backslashes its rows put there (a value with one of its own adds to the count), no carriage return,
and no account that an array literal would read as something else; the caller then uses asyncpg's
binary COPY instead. Amounts are written with `str`: a non-int amount either reads back as the same
integer or is refused by PostgreSQL (bigint input, or the entry's CHECK on equal line counts).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

# What an array literal reads specially inside an unquoted element, beyond what the counts catch (tabs,
# newlines, carriage returns, backslashes): nesting, quoting, and the whitespace it skips. Commas, its
# separator, are counted per row.
_ELEMENT_SPECIAL = ("{", "}", '"', " ", "\x0b", "\x0c")
_COLUMNS = 17
_TEXT_COLUMNS = (0, 1, 3, 5, 6, 7, 8, 13, 14, 15, 16)  # str (reverses_entry_id, 9: str or None)


def _accounts_text(accounts: list) -> str | None:
    """The accounts as array elements joined by commas, or None if an array literal would read them otherwise."""
    for account in accounts:
        if type(account) is not str or not account or (len(account) == 4 and account.upper() == "NULL"):
            return None
    joined = ",".join(accounts)
    if joined.count(",") != len(accounts) - 1:
        return None
    for ch in _ELEMENT_SPECIAL:
        if ch in joined:
            return None
    return joined


def _row(row: tuple, accounts: str) -> str:
    # Amounts untyped on purpose: compiled, a list[int] would raise on a non-int amount where the source
    # writes it; both write str(value), which reads back as the same integer or is refused by PostgreSQL.
    debits: list = row[11]
    credits: list = row[12]
    effective: date = row[4]
    reverses = row[9]
    return "\t".join([
        row[0], row[1], str(row[2]), row[3], effective.isoformat(), row[5], row[6], row[7], row[8],
        "\\N" if reverses is None else reverses,
        "{" + accounts + "}",
        "{" + ",".join([str(d) for d in debits]) + "}",
        "{" + ",".join([str(c) for c in credits]) + "}",
        row[13], row[14], row[15], row[16]]) + "\n"


def text_data(rows: Sequence[tuple]) -> bytes | None:
    """COPY text data of journal rows (repository.JOURNAL_COLUMNS order), or None if any value is not plain."""
    lines: list[str] = []
    nulls = 0
    for row in rows:
        if len(row) != _COLUMNS:
            return None
        for column in _TEXT_COLUMNS:
            if type(row[column]) is not str:  # e.g. a cause without subject or correlation id: binary COPY
                return None
        if row[9] is None:
            nulls += 1
        elif type(row[9]) is not str:
            return None
        n_lines = len(row[10])
        if n_lines == 0 or len(row[11]) != n_lines or len(row[12]) != n_lines:
            return None
        accounts = _accounts_text(row[10])
        if accounts is None:
            return None
        lines.append(_row(row, accounts))
    data = "".join(lines).encode()
    return data if _reads_as_written(data, len(rows), _COLUMNS, nulls) else None


# The bytes COPY's text format reads specially in a value. In UTF-8 no byte of a multi-byte character is
# one of them, so counting them in the encoded text counts the characters.
_SPECIAL = b"\t\n\\\r"


def _reads_as_written(data: bytes, rows: int, columns: int, nulls: int) -> bool:
    """Whether COPY's text format reads `data` (made unescaped, `\\N` for each of its `nulls`) back as the
    values written: exactly the tabs and newlines the rows put there, one backslash per NULL marker (the
    only one written), and no carriage return.

    A value can only add to those, never take one away, so their total is enough: it equals what the rows
    wrote exactly when no value holds any of them. One pass (`bytes.translate` deleting them) instead of
    a scan per character: ~155 ns per journal row instead of ~630 (docs/performance.md, "Tenth pass")."""
    return len(data) - len(data.translate(None, _SPECIAL)) == (columns - 1) * rows + rows + nulls


# COPY text escapes for a scalar text value (PostgreSQL docs, COPY "Text Format"): these four only.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _scalar(value: str | int | None) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    return value.translate(_ESCAPES)


def _plain_line(row: tuple) -> str:
    return "\t".join(["\\N" if v is None else str(v) for v in row]) + "\n"


def _escaped_line(row: tuple) -> str:
    return "\t".join([_scalar(v) for v in row]) + "\n"


def scalar_text_data(rows: Sequence[tuple]) -> bytes:
    """COPY text data of rows whose values are str, int or None (any text: escaped), e.g. processed events.

    Cheaper than asyncpg's binary COPY of the same rows (one join per row, no per-value type dispatch).
    Most batches need no escaping at all, so the text is first made without it and kept when it has
    exactly one backslash per NULL marker, no carriage return, and exactly the tabs and newlines its rows
    put there; otherwise every value is escaped. A str that could be taken for the NULL marker cannot
    occur: a literal backslash is always escaped.
    """
    if not rows:
        return b""
    width = len(rows[0])
    if all(len(row) == width for row in rows):
        data = "".join([_plain_line(row) for row in rows]).encode()
        if _reads_as_written(data, len(rows), width, sum([row.count(None) for row in rows])):
            return data
    return "".join([_escaped_line(row) for row in rows]).encode()
