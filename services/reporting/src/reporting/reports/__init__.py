"""The report registry: every audit report as a ReportSpec, and run_report to run one by name."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from reporting.reports.contract import (
    Column,
    ReportQuery,
    ReportSpec,
    ReportTable,
    UnknownReport,
)
from reporting.reports.params import BadParameter, check_params

if TYPE_CHECKING:
    import asyncpg

REGISTRY: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    REGISTRY[spec.name] = spec
    return spec


def _spec(name: str) -> ReportSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownReport(name) from None


async def run_report(conn: "asyncpg.Connection", name: str, query: ReportQuery, *,
                     only_its_params: bool = False) -> ReportTable:
    """Run the report called name for query (one council); raises UnknownReport, or BadParameter for a
    parameter it does not take or cannot use. only_its_params: leave out the parameters it does not take
    (one query for many reports: check it first with check_params_of)."""
    spec = _spec(name)
    if only_its_params:
        query = replace(query, params={k: v for k, v in query.params.items() if k in spec.params})
    check_params(query.params, spec.params)
    return await spec.run(conn, query)


def check_params_of(names: Iterable[str], query: ReportQuery) -> None:
    """BadParameter unless each of query's parameters is taken by one of the reports (and its value passes)."""
    check_params(query.params, {p for name in names for p in _spec(name).params})


__all__ = ["BadParameter", "Column", "REGISTRY", "ReportQuery", "ReportSpec", "ReportTable", "UnknownReport",
           "check_params_of", "register", "run_report"]


def _register_all() -> None:
    from . import integrity, invoices, ledger_reports, payments, provision

    for module in (ledger_reports, provision, invoices, payments, integrity):
        for spec in module.SPECS:
            register(spec)


_register_all()
