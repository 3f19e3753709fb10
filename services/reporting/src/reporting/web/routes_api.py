"""The JSON/CSV/XLSX/HTML report API, scoped to one council per request.

Routes: list reports; run one report as at a date (and as known at a time) in a chosen format;
request an audit pack (a write: refused to the auditor role) and read it back.
"""
import asyncio
import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import AwareDatetime, BeforeValidator, StringConstraints

from reporting.domain.instants import utc_instant
from reporting.render import FORMATS, render
from reporting.reports import ReportQuery, ReportTable, UnknownReport
from reporting.service.audit_pack import build_audit_pack, pack_name

from .access import Principal
from .api_models import AuditPack, Format, ReportDocument, ReportList, problems
from .audit_packs import council_folder, pack_file, pack_lock
from .html import render_report_page
from .layout import NavItem, PageAssets
from .runner import ReportParameterError, in_snapshot, report_specs, run_reports
from .state import REPORT_NAME_PATTERN, Council, WebState, exact_query, reader, web_state, writer

router = APIRouter(tags=["reports"], dependencies=[Depends(exact_query)])


def iso_only(value: object) -> object:
    """Dates and times as ISO 8601 text only (pydantic would also take a number as a Unix time)."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected ISO 8601, e.g. 2026-03-31 or 2026-03-31T23:59:59+00:00")
    return value


AsOf = Annotated[Annotated[date, BeforeValidator(iso_only)] | None, Query(
    description="Effective date (business time); today when omitted.")]
KnownAt = Annotated[Annotated[AwareDatetime, BeforeValidator(iso_only)] | None, Query(
    description="Recorded time (with offset): figures as they were known then; now when omitted.")]
# The names some report takes (each report's own are in its description; reports.params checks the rest).
PARAM_NAMES = sorted({name for spec in report_specs() for name in spec.params})
Param = Annotated[str, StringConstraints(pattern=rf"^({'|'.join(PARAM_NAMES)})=[^\x00-\x1f]{{0,200}}$")]
Params = Annotated[list[Param], Query(
    description="Report parameters as name=value, e.g. period=quarter or budget_id=PB-1. A parameter the report "
                "does not take, or a value it cannot use, is refused (422) with the reason.", max_length=10)]


def build_query(council: str, as_of: date | None, known_at: datetime | None, params: list[str]) -> ReportQuery:
    # A known_at beyond the calendar's ends once shifted to UTC is the end it passed (domain.instants).
    return ReportQuery(council_id=council, as_of=as_of or datetime.now(UTC).date(),
                       known_at=utc_instant(known_at) if known_at else None,
                       params=dict(p.split("=", 1) for p in params))


def report_links(council: str, name: str) -> dict[str, str]:
    return {fmt: f"/councils/{council}/reports/{name}?format={fmt}" for fmt in ("json", "csv", "xlsx", "html")}


@router.get("/councils/{council}/reports", response_model=ReportList, responses=problems(401, 403),
            summary="The reports this council can run")
async def list_reports(council: Council, _: Principal = Depends(reader)) -> ReportList:
    return ReportList(council_id=council, reports=[
        {"name": s.name, "title": s.title, "description": s.description, "links": report_links(council, s.name)}
        for s in report_specs()])


_FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    FORMATS["xlsx"][0]: {"schema": {"type": "string", "format": "binary"}},
    "text/html": {"schema": {"type": "string"}},
}


def download_name(table: ReportTable, fmt: str) -> str:
    """A file name that is safe in a Content-Disposition header whatever the council id holds."""
    stem = f"{table.name}-{table.query.council_id}-{table.query.as_of.isoformat()}"
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', stem)}.{fmt}"


@router.get("/councils/{council}/reports/{name}", response_model=None, summary="Run one report",
            responses={200: {"model": ReportDocument, "content": _FILE_CONTENT,
                             "description": "The report in the requested format."},
                       **problems(401, 403, 404, 503)})
async def get_report(council: Council, name: Annotated[str, Path(pattern=REPORT_NAME_PATTERN, examples=[
                         "trial_balance", "provider_type_spend"], description="A report's name (see the list).")],
                     as_of: AsOf = None, known_at: KnownAt = None, params: Params = [],
                     format: Annotated[Format, Query(description="Output format.")] = "json",
                     state: WebState = Depends(web_state), _: Principal = Depends(reader)) -> Response:
    if name not in {s.name for s in report_specs()}:
        raise UnknownReport(name)
    query = build_query(council, as_of, known_at, params)
    try:
        [table] = await run_reports(state, [name], query)
    except ReportParameterError as exc:
        raise RequestValidationError([{"loc": ("query", "params"), "msg": str(exc), "type": "value_error"}]) from exc
    state.metrics.reports.labels(name, format).inc()
    # Rendering a large report is CPU work: off the event loop, so health checks and other callers go on.
    if format == "html":
        nav = [NavItem(f"/councils/{council}/dashboard", "Dashboard")]
        return HTMLResponse(await asyncio.to_thread(render_report_page, table, assets=PageAssets.served(), nav=nav,
                                                    target=state.settings.target_for(council)))
    body, media_type = await asyncio.to_thread(render, table, format), FORMATS[format][0]
    if format == "json":
        return Response(body, media_type=media_type)
    disposition = f'attachment; filename="{download_name(table, format)}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.post("/councils/{council}/audit-packs", status_code=201, response_model=AuditPack,
             responses=problems(401, 403, 503), summary="Build and keep an audit pack (not for auditors)")
async def create_audit_pack(council: Council, as_of: AsOf = None, known_at: KnownAt = None,
                            state: WebState = Depends(web_state), who: Principal = Depends(writer)) -> AuditPack:
    query = build_query(council, as_of, known_at, [])
    folder = council_folder(state.settings.audit_pack_dir, council)
    extra = {"Requested by": f"{who.label or 'key'} ({who.role})", "Through": "the reporting HTTP API"}
    async with pack_lock(folder / pack_name(query)):
        pack = await in_snapshot(state, lambda conn: build_audit_pack(conn, query, folder, extra_meta=extra))
    href = f"/councils/{council}/audit-packs/{pack.folder.name}"
    return AuditPack(id=pack.folder.name, council_id=council, as_of=query.as_of.isoformat(),
                     known_at=query.known_at.isoformat() if query.known_at else None,
                     reports=[t.name for t in pack.tables], href=href, zip_href=f"{href}?format=zip")


@router.get("/councils/{council}/audit-packs/{pack_id}", response_model=None,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}},
                                         "application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The pack's page, or with format=zip the whole pack."},
                       **problems(401, 403, 404)},
            summary="An audit pack built earlier: its HTML page, or the zip of every file")
async def get_audit_pack(council: Council, pack_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,120}$")],
                         format: Annotated[Literal["html", "zip"], Query()] = "html",
                         state: WebState = Depends(web_state), _: Principal = Depends(reader)) -> Response:
    path = pack_file(state.settings.audit_pack_dir, council, pack_id, format)
    if path is None:
        raise HTTPException(404, "No such audit pack for this council.")
    if format == "zip":
        return FileResponse(path, media_type="application/zip", filename=path.name)
    return HTMLResponse(path.read_text(encoding="utf-8"))


__all__ = ["router"]
