"""HTML for people: one report page, and the one-page audit pack that bundles every report.

Owns `render_report_page(table)` and `render_audit_pack_page(tables, meta)` (the CLI's audit pack and
the HTTP API's `format=html` both call these) and the pieces they share: the report section (heading,
what it is as at and as known at, notes, charts, and the data table that is the charts' text
alternative). Pure functions of their arguments: no database, no clock.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from reporting.reports.contract import ReportTable

from .charts import DEFAULT_EXTERNAL_TARGET, charts_for, render_svg
from .layout import NavItem, PageAssets, page
from .values import NUMERIC_KINDS, display


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def render_table(table: ReportTable, caption_id: str) -> str:
    """The report's rows as a GOV.UK table in a keyboard-scrollable region (wide reports scroll)."""
    label_first = bool(table.columns) and table.columns[0].kind in ("text", "date")
    head = "".join(
        f'<th scope="col" class="govuk-table__header'
        f'{" govuk-table__header--numeric" if c.kind in NUMERIC_KINDS else ""}">{escape(c.title)}</th>'
        for c in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for i, (column, value) in enumerate(zip(table.columns, row, strict=True)):
            text = escape(display(value, column.kind))
            if i == 0 and label_first:
                cells.append(f'<th scope="row" class="govuk-table__header">{text}</th>')
            else:
                numeric = " govuk-table__cell--numeric" if column.kind in NUMERIC_KINDS else ""
                cells.append(f'<td class="govuk-table__cell{numeric}">{text}</td>')
        body.append(f'<tr class="govuk-table__row">{"".join(cells)}</tr>')
    if not body:
        span = max(len(table.columns), 1)
        body.append(f'<tr class="govuk-table__row"><td class="govuk-table__cell" colspan="{span}">'
                    "No rows for this council as at this date.</td></tr>")
    return (f'<div class="app-table-wrap" role="region" aria-labelledby="{caption_id}" tabindex="0">'
            f'<table class="govuk-table"><caption class="govuk-table__caption govuk-table__caption--s" '
            f'id="{caption_id}">{escape(table.title)}: figures</caption>'
            f'<thead class="govuk-table__head"><tr class="govuk-table__row">{head}</tr></thead>'
            f'<tbody class="govuk-table__body">{"".join(body)}</tbody></table></div>')


def _as_at(table: ReportTable) -> str:
    q = table.query
    known = f", as known at {q.known_at.isoformat()}" if q.known_at else ", as known now"
    return f"Council {q.council_id}, as at {q.as_of.isoformat()}{known}."


def render_report_section(table: ReportTable, *, heading_level: int = 2,
                          target: float = DEFAULT_EXTERNAL_TARGET) -> str:
    """One report: heading, scope line, notes, charts (each with a pointer to the table) and the table."""
    anchor = _slug(table.name)
    size = "l" if heading_level == 1 else "m"
    parts = [f'<section class="app-report" id="{anchor}" aria-labelledby="{anchor}-heading">',
             f'<h{heading_level} class="govuk-heading-{size}" id="{anchor}-heading">{escape(table.title)}'
             f'</h{heading_level}>',
             f'<p class="govuk-body">{escape(_as_at(table))}</p>']
    parts += [f'<div class="govuk-inset-text">{escape(note)}</div>' for note in table.notes]
    for chart in charts_for(table, target):
        if chart.headline:
            parts.append(f'<p class="govuk-body-l">{escape(chart.headline)}</p>')
        parts.append(f'<figure class="govuk-!-margin-0 govuk-!-margin-bottom-6">{render_svg(chart)}'
                     f'<figcaption class="govuk-body-s">{escape(chart.title)}. '
                     f'The figures are also in the table below.</figcaption></figure>')
    parts.append(render_table(table, caption_id=f"{anchor}-caption"))
    parts.append("</section>")
    return "".join(parts)


def render_report_page(table: ReportTable, *, assets: PageAssets | None = None,
                       nav: Sequence[NavItem] = (), target: float = DEFAULT_EXTERNAL_TARGET) -> str:
    """A whole page for one report; standalone (inline stylesheet) unless served `assets` are given."""
    return page(table.title, render_report_section(table, heading_level=1, target=target),
                assets=assets or PageAssets.standalone(), council=table.query.council_id, nav=nav)


def render_audit_pack_page(tables: Sequence[ReportTable], meta: Mapping[str, str], *,
                           assets: PageAssets | None = None, target: float = DEFAULT_EXTERNAL_TARGET) -> str:
    """The audit pack: what it is (meta as a summary list), contents, then every report in order."""
    council = tables[0].query.council_id if tables else meta.get("council")
    summary = "".join(
        f'<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{escape(k)}</dt>'
        f'<dd class="govuk-summary-list__value">{escape(v)}</dd></div>' for k, v in meta.items())
    contents = "".join(f'<li><a class="govuk-link" href="#{_slug(t.name)}">{escape(t.title)}</a></li>'
                       for t in tables)
    content = (
        '<h1 class="govuk-heading-xl">Audit pack</h1>'
        f'<dl class="govuk-summary-list">{summary}</dl>'
        '<h2 class="govuk-heading-m">Contents</h2>'
        f'<ol class="govuk-list govuk-list--number">{contents}</ol>'
        + "".join(render_report_section(t, heading_level=2, target=target) for t in tables))
    return page("Audit pack", content, assets=assets or PageAssets.standalone(), council=council)
