"""JSON: the query, the columns (name, title, kind), the rows as objects and the notes."""
from __future__ import annotations

import orjson

from ..reports.contract import ReportQuery, ReportTable
from .values import machine_value


def query_dict(query: ReportQuery) -> dict:
    return {"council_id": query.council_id, "as_of": query.as_of.isoformat(),
            "known_at": query.known_at.isoformat() if query.known_at else None, "params": dict(query.params)}


def table_dict(table: ReportTable) -> dict:
    return {
        "report": table.name, "title": table.title, "query": query_dict(table.query),
        "columns": [{"name": c.name, "title": c.title, "kind": c.kind} for c in table.columns],
        "rows": [{c.name: machine_value(v, c.kind) for v, c in zip(row, table.columns)} for row in table.rows],
        "notes": list(table.notes),
    }


def to_json(table: ReportTable) -> bytes:
    return orjson.dumps(table_dict(table), option=orjson.OPT_INDENT_2) + b"\n"
