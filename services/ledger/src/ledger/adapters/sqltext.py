"""SQL text with its values written in as literals, for statements sent together in one round trip.

A batch transaction is a handful of statements, each a round trip to PostgreSQL, and each round trip
waits for the worker's event loop, busy deciding the next batch (docs/performance.md). The upserts of
balances, shard heads and working state take their values as text already (`array_literal`), so they go
as one simple-query message, `stmt; stmt; stmt`. The simple-query protocol takes no parameters, so the
values are written into the text here.

Every string becomes an escape-string constant, `E'...'`, with `\\` and `'` doubled: PostgreSQL reads it
back as exactly the same string whatever `standard_conforming_strings` says. A NUL cannot be in a
PostgreSQL string, or in a simple-query message at all, so it is refused. Integers are written as
integers, None as NULL; any other type is refused rather than guessed at.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

_PLACEHOLDER = re.compile(r"\$([1-9][0-9]*)")


def literal(value: str | int | None) -> str:
    """`value` as a SQL constant."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise TypeError("a bool is not bound as a literal: pass 'true' or 'false' text")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("a NUL character cannot be sent to PostgreSQL")
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    raise TypeError(f"cannot bind a {type(value).__name__} as a SQL literal")


def bind(sql: str, args: Sequence[str | int | None]) -> str:
    """`sql` with each `$n` replaced by `literal(args[n - 1])`, in one pass (a value's own text is never
    read as a placeholder). Every argument must be used, and every placeholder must have one."""
    used: set[int] = set()

    def value_of(match: re.Match) -> str:
        n = int(match.group(1))
        if n > len(args):
            raise IndexError(f"${n} has no value: {len(args)} given")
        used.add(n)
        return literal(args[n - 1])

    text = _PLACEHOLDER.sub(value_of, sql)
    if len(used) != len(args):
        raise ValueError(f"values given for placeholders the statement does not have: {len(args)} given, "
                         f"{sorted(used)} used")
    return text


__all__ = ["bind", "literal"]
