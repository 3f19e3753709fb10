"""Journal rows as COPY text data, when every value is plain enough to need no escaping or quoting.

Why: asyncpg's `copy_records_to_table` spends ~3.1 µs of client CPU per journal row, ~2.9 of it on the
three arrays (accounts, debits, credits), checking each element against `collections.abc`. One
f-string per row in COPY's text format costs ~1.9 µs, and PostgreSQL parses it in about the time it
decodes the binary rows (measured client + server: ~5.1 -> ~4.1 µs per row; docs/performance.md).

Exactness first: text format gives meaning to backslashes, tabs, newlines and carriage returns, and an
array literal to commas, braces, double quotes, whitespace and a bare NULL. Ledger ids, accounts,
hashes and ISO times never contain any of them, but this module does not rely on that: `text_data`
returns None unless the whole batch's text is free of every special character and holds exactly the
tabs, newlines, braces and commas its rows put there, and the caller then uses asyncpg's COPY instead.
"""
from __future__ import annotations

from collections.abc import Sequence

# Characters that would change how COPY text or an array literal is read (array_in skips whitespace
# around unquoted elements; `\` escapes in both). Tabs, newlines, braces and commas are counted instead.
_FORBIDDEN = ("\\", "\r", '"', " ", "\x0b", "\x0c")


def _row(row: tuple) -> str:
    (entry_id, shard, shard_seq, council_id, effective_date, recorded_at, cause_event_id, cause_type,
     rule_version, reverses_entry_id, accounts, debits, credits, prev_hash, digest, subject, correlation) = row
    reverses = "\\N" if reverses_entry_id is None else reverses_entry_id
    return (f"{entry_id}\t{shard}\t{shard_seq:d}\t{council_id}\t{effective_date.isoformat()}\t{recorded_at}\t"
            f"{cause_event_id}\t{cause_type}\t{rule_version}\t{reverses}\t{{{','.join(accounts)}}}\t"
            f"{{{','.join(map(str, debits))}}}\t{{{','.join(map(str, credits))}}}\t{prev_hash}\t{digest}\t"
            f"{subject}\t{correlation}\n")


def text_data(rows: Sequence[tuple]) -> bytes | None:
    """COPY text data of journal rows (repository.JOURNAL_COLUMNS order), or None if any value is not plain."""
    lines = 0
    for row in rows:
        accounts, debits, credits = row[10], row[11], row[12]
        if not (len(accounts) == len(debits) == len(credits) > 0) or any(
                not account or account.upper() == "NULL" for account in accounts):
            return None
        if type(row[15]) is not str or type(row[16]) is not str:  # cause subject, correlation id (None: binary)
            return None
        lines += len(accounts)
    text = "".join([_row(row) for row in rows])
    n = len(rows)
    # the one NULL marker this module writes is `\N` for reverses_entry_id: take those out before checking
    nulls = sum(1 for row in rows if row[9] is None)
    checked = text.replace("\t\\N\t", "\t\t", nulls) if nulls else text
    if any(ch in checked for ch in _FORBIDDEN):
        return None
    if (checked.count("\t") != 16 * n or checked.count("\n") != n or checked.count("{") != 3 * n
            or checked.count("}") != 3 * n or checked.count(",") != 3 * (lines - n)):
        return None
    return text.encode()


# COPY text escapes for a scalar text value (PostgreSQL docs, COPY "Text Format"): these four only.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _scalar(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    return value.translate(_ESCAPES)


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
    text = "".join(["\t".join(["\\N" if v is None else str(v) for v in row]) + "\n" for row in rows])
    width = len(rows[0])
    if (all(len(row) == width for row in rows) and "\r" not in text
            and text.count("\\") == sum(row.count(None) for row in rows)
            and text.count("\t") == (width - 1) * len(rows) and text.count("\n") == len(rows)):
        return text.encode()
    return "".join(["\t".join([_scalar(v) for v in row]) + "\n" for row in rows]).encode()
