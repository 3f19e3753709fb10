"""The report contract: what a report is asked (ReportQuery), what it returns (ReportTable) and how it is
registered (ReportSpec). The CLI, the renderers and the HTTP API (reporting.web) build on these names only."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # asyncpg is only a type here; the contract itself does no I/O
    import asyncpg

COLUMN_KINDS = frozenset({"text", "pence", "int", "date", "ratio"})


class UnknownReport(LookupError):
    """No report of that name is registered."""


@dataclass(frozen=True)
class ReportQuery:
    """One council, as at an effective date, optionally as known at a recorded time (bitemporal)."""

    council_id: str
    as_of: date
    known_at: datetime | None = None
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Column:
    """A column of a report. kind is one of COLUMN_KINDS; "pence" values are integer pence,
    "ratio" values are floats in [0, 1] (or None), "date" values are datetime.date."""

    name: str
    title: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class ReportTable:
    """The result of one report: rows are tuples in column order."""

    name: str
    title: str
    query: ReportQuery
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    notes: tuple[str, ...] = ()

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row)) for row in self.rows]


@dataclass(frozen=True)
class ReportSpec:
    """A registered report: run(conn, query) reads the projections of query.council_id only; params names the
    parameters it takes (reports.params checks them before it runs)."""

    name: str
    title: str
    description: str
    run: Callable[["asyncpg.Connection", ReportQuery], Awaitable[ReportTable]]
    params: tuple[str, ...] = ()
