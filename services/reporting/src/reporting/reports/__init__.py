"""The report registry: every audit report as a ReportSpec, and run_report to run one by name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reporting.reports.contract import (
    Column,
    ReportQuery,
    ReportSpec,
    ReportTable,
    UnknownReport,
)

if TYPE_CHECKING:
    import asyncpg

REGISTRY: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    REGISTRY[spec.name] = spec
    return spec


async def run_report(conn: "asyncpg.Connection", name: str, query: ReportQuery) -> ReportTable:
    """Run the report called name for query (one council); raises UnknownReport."""
    try:
        spec = REGISTRY[name]
    except KeyError:
        raise UnknownReport(name) from None
    return await spec.run(conn, query)


__all__ = ["Column", "REGISTRY", "ReportQuery", "ReportSpec", "ReportTable", "UnknownReport", "register", "run_report"]


def _register_all() -> None:
    from . import integrity, invoices, ledger_reports, payments, provision

    for module in (ledger_reports, provision, invoices, payments, integrity):
        for spec in module.SPECS:
            register(spec)


_register_all()
