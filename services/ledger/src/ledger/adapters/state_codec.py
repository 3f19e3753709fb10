"""JSON form of the ledger's working state (budget terms, orders, schedules, holds, recoveries).

Stored in `ledger_state` as (kind, key, data). Dates travel as ISO strings; tuples as lists.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import orjson

from ..domain.model import Book, BudgetTerms, Hold, OrderTerms, Recovery, ScheduleTerms

KIND_TYPES: dict[str, type] = {
    "budgets": BudgetTerms, "orders": OrderTerms, "schedules": ScheduleTerms,
    "holds": Hold, "recoveries": Recovery,
}
_DATE_FIELDS = {"start_date", "end_date", "died_on", "segment_start", "first_due"}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def dump(obj: Any) -> str:
    """The object's JSON text: its fields in declaration order (dates and tuples as orjson writes them),
    the same text as orjson.dumps(dataclasses.asdict(obj)) without asdict's deep copy.

    Not `orjson.dumps(obj)` itself: orjson reads a dataclass's fields by getattr and releases each value
    before it has written it, which holds only while the instance keeps a reference of its own. A compiled
    instance (ledger.native) keeps its ints unboxed and hands out a new object on every read, so orjson
    read freed memory (seen under PYTHONMALLOC=pymalloc_debug; tests/test_native.py runs that). A dict
    holds the values it is given.
    """
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    return orjson.dumps({name: getattr(obj, name) for name in names}).decode()


def load(kind: str, data: dict) -> Any:
    cls = KIND_TYPES[kind]
    values = {}
    for name, value in data.items():
        if name in _DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        elif name == "sources":
            value = tuple((account, amount) for account, amount in value)
        values[name] = value
    return cls(**values)


def container(book: Book, kind: str) -> dict:
    return getattr(book, kind)


def council_of(book: Book, kind: str, obj: Any) -> str:
    council = getattr(obj, "council_id", None)
    if council is None:
        council = book.budgets[obj.budget_id].council_id
    return council
