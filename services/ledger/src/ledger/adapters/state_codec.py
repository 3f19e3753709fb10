"""JSON form of the ledger's working state (budget terms, orders, schedules, holds, recoveries).

Stored in `ledger_state` as (kind, key, data). Dates travel as ISO strings; tuples as lists.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from ..domain.model import Book, BudgetTerms, Hold, OrderTerms, Recovery, ScheduleTerms

KIND_TYPES: dict[str, type] = {
    "budgets": BudgetTerms, "orders": OrderTerms, "schedules": ScheduleTerms,
    "holds": Hold, "recoveries": Recovery,
}
_DATE_FIELDS = {"start_date", "end_date", "died_on", "segment_start", "first_due"}


def dump(obj: Any) -> str:
    # orjson serialises (slotted) dataclasses, dates and tuples natively, field by field in declaration
    # order: the same text as orjson.dumps(dataclasses.asdict(obj)) without asdict's deep copy.
    return orjson.dumps(obj).decode()


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
