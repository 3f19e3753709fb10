"""Server-rendered, accessible SVG bar charts of report tables (no JavaScript, no chart library).

Owns which chart a report table gets and how it is drawn. Each chart is an `<svg role="img">` whose
`<title>` and `<desc>` say what it shows in words (the desc summarises every bar), values are written
beside the bars so nothing is told by colour alone, and the page puts the full data table next to it.
A ratio column whose name mentions "external" is the external-provision share: it is drawn against the
target (80% by default, a per-council setting) as a labelled dashed line.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from reporting.reports.contract import Column, ReportTable

from .values import display, percent

DEFAULT_EXTERNAL_TARGET = 0.8
MAX_BARS = 25
_WIDTH, _LABEL_W, _VALUE_W, _ROW_H, _TOP, _BOTTOM = 760, 230, 120, 34, 40, 36
_BAR_COLOUR, _TEXT_COLOUR, _GRID_COLOUR = "#1d70b8", "#0b0c0c", "#b1b4b6"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    target: tuple[float, str] | None = None
    headline: str = ""  # the one sentence a reader should take away, shown above the chart


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _label_column(table: ReportTable) -> int | None:
    return next((i for i, c in enumerate(table.columns) if c.kind in ("text", "date")), None)


def _row_label(table: ReportTable, row: tuple[Any, ...], label_at: int) -> str:
    value = row[label_at]
    return display(value, table.columns[label_at].kind)


def _ratio_ticks() -> tuple[tuple[float, str], ...]:
    return tuple((t / 4, percent(t / 4, 0)) for t in range(5))


def _value_ticks(low: float, high: float, kind: str) -> tuple[tuple[float, str], ...]:
    """About four round steps from below `low` to above `high`, labelled as the column's kind reads."""
    raw = ((high - low) or 100.0) / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, t = [], (low // step) * step
    while True:
        ticks.append((t, display(int(t), kind)))
        if t >= high:
            return tuple(ticks)
        t += step


def _is_external_share(column: Column) -> bool:
    return column.kind == "ratio" and "external" in column.name.lower()


def chart_for_column(table: ReportTable, at: int, label_at: int, target: float) -> BarChart | None:
    """A bar per row of column `at`, labelled by column `label_at`; None when there is nothing to draw."""
    column = table.columns[at]
    rows = [r for r in table.rows if r[at] is not None]
    if not rows or len(rows) > MAX_BARS:
        return None
    bars = tuple(Bar(_row_label(table, r, label_at), float(r[at]), display(r[at], column.kind)) for r in rows)
    goal = None
    if column.kind == "ratio":
        ticks = _ratio_ticks()
        if _is_external_share(column):
            goal = (target, f"Target {percent(target, 0)}")
    else:
        values = [b.value for b in bars]
        ticks = _value_ticks(min(0.0, *values), max(0.0, *values), column.kind)
    summary = "; ".join(f"{b.label}: {b.text}" for b in bars)
    goal_words = f" The dashed line marks the target of {percent(goal[0], 0)}." if goal else ""
    return BarChart(
        chart_id=f"chart-{table.name}-{column.name}".replace("_", "-"),
        title=f"{column.title} by {table.columns[label_at].title.lower()}",
        description=f"Bar chart of {column.title.lower()} for {len(bars)} rows. {summary}.{goal_words}",
        bars=bars, ticks=ticks, target=goal,
    )


def provision_charts(table: ReportTable, target: float) -> list[BarChart] | None:
    """Spend by provider type (one row per period and type, plus an ALL row per period): the external
    share of each period against the target, and the spend of each type over the whole range.
    None when the table does not have that shape."""
    at = {c.name: i for i, c in enumerate(table.columns)}
    if not {"period", "provider_type", "spend_pence", "external_share"} <= at.keys():
        return None
    totals = [r for r in table.rows if r[at["provider_type"]] == "ALL" and r[at["external_share"]] is not None]
    if "target_share" in at and table.rows and table.rows[0][at["target_share"]] is not None:
        target = float(table.rows[0][at["target_share"]])  # the target the report itself judged against
    charts = []
    if 0 < len(totals) <= MAX_BARS:
        bars = tuple(Bar(str(r[at["period"]]), float(r[at["external_share"]]),
                         percent(float(r[at["external_share"]]))) for r in totals)
        met = sum(1 for b in bars if b.value >= target)
        spend = sum(int(r[at["spend_pence"]]) for r in totals)
        overall = sum(float(r[at["external_share"]]) * int(r[at["spend_pence"]]) for r in totals) / spend \
            if spend else None
        span = bars[0].label if len(bars) == 1 else f"{bars[0].label} to {bars[-1].label}"
        headline = "" if overall is None else (
            f"From {span}, {percent(overall)} of spend went to external providers: "
            f"{'meeting' if overall >= target else 'below'} the target of {percent(target, 0)}.")
        charts.append(BarChart(
            chart_id="chart-external-share", title="External-provision share by period",
            description=(f"Bar chart of the share of spend that went to external providers in each of "
                         f"{len(bars)} periods, against a target of {percent(target, 0)}; {met} of {len(bars)} "
                         f"periods meet it. " + "; ".join(f"{b.label}: {b.text}" for b in bars) + "."),
            bars=bars, ticks=_ratio_ticks(), target=(target, f"Target {percent(target, 0)}"), headline=headline))
    by_type: dict[str, int] = {}
    for r in table.rows:
        if r[at["provider_type"]] != "ALL" and r[at["spend_pence"]] is not None:
            by_type[r[at["provider_type"]]] = by_type.get(r[at["provider_type"]], 0) + int(r[at["spend_pence"]])
    if by_type and len(by_type) <= MAX_BARS:
        bars = tuple(Bar(t, float(v), display(v, "pence")) for t, v in sorted(by_type.items(), key=lambda kv: -kv[1]))
        values = [b.value for b in bars]
        periods = sorted({str(r[at["period"]]) for r in table.rows})
        span = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
        charts.append(BarChart(
            chart_id="chart-spend-by-provider-type", title=f"Spend by provider type, {span}",
            description=f"Bar chart of spend by provider type, {span}. "
                        + "; ".join(f"{b.label}: {b.text}" for b in bars) + ".",
            bars=bars, ticks=_value_ticks(min(0.0, *values), max(0.0, *values), "pence")))
    return charts


def charts_for(table: ReportTable, target: float = DEFAULT_EXTERNAL_TARGET) -> list[BarChart]:
    """The charts a report table gets: the provision charts for spend by provider type; otherwise every
    ratio column, else the first money column, by row label."""
    special = provision_charts(table, target)
    if special is not None:
        return special
    label_at = _label_column(table)
    if label_at is None:
        return []
    ratio_cols = [i for i, c in enumerate(table.columns) if c.kind == "ratio"]
    ratio_cols.sort(key=lambda i: not _is_external_share(table.columns[i]))  # the external share first
    chosen = ratio_cols or [i for i, c in enumerate(table.columns) if c.kind == "pence"][:1]
    charts = (chart_for_column(table, i, label_at, target) for i in chosen)
    return [c for c in charts if c is not None]


def render_svg(chart: BarChart) -> str:
    """The chart as an accessible inline SVG element."""
    low = min(chart.ticks[0][0], *(b.value for b in chart.bars), 0.0)
    high = max(chart.ticks[-1][0], *(b.value for b in chart.bars), 0.0)
    span = (high - low) or 1.0
    plot_w = _WIDTH - _LABEL_W - _VALUE_W

    def x(v: float) -> float:
        return round(_LABEL_W + (v - low) / span * plot_w, 1)

    height = _TOP + _ROW_H * len(chart.bars) + _BOTTOM
    axis_y = _TOP + _ROW_H * len(chart.bars)
    cid = escape(chart.chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" id="{cid}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" font-family="arial, sans-serif" font-size="16">',
        f'<title id="{cid}-title">{escape(chart.title)}</title>',
        f'<desc id="{cid}-desc">{escape(chart.description)}</desc>',
    ]
    for value, text in chart.ticks:
        parts.append(f'<line x1="{x(value)}" y1="{_TOP - 8}" x2="{x(value)}" y2="{axis_y}" '
                     f'stroke="{_GRID_COLOUR}" stroke-width="1"/>')
        parts.append(f'<text x="{x(value)}" y="{axis_y + 22}" text-anchor="middle" '
                     f'fill="{_TEXT_COLOUR}" font-size="14">{escape(text)}</text>')
    for i, bar in enumerate(chart.bars):
        top = _TOP + i * _ROW_H
        left, right = sorted((x(0.0), x(bar.value)))
        parts.append(f'<text x="{_LABEL_W - 10}" y="{top + 22}" text-anchor="end" '
                     f'fill="{_TEXT_COLOUR}">{escape(_short(bar.label))}</text>')
        parts.append(f'<rect x="{left}" y="{top + 6}" width="{max(right - left, 1)}" height="{_ROW_H - 12}" '
                     f'fill="{_BAR_COLOUR}"/>')
        parts.append(f'<text x="{max(right, x(0.0)) + 8}" y="{top + 22}" fill="{_TEXT_COLOUR}">'
                     f'{escape(bar.text)}</text>')
    parts.append(f'<line x1="{x(0.0)}" y1="{_TOP - 8}" x2="{x(0.0)}" y2="{axis_y}" '
                 f'stroke="{_TEXT_COLOUR}" stroke-width="2"/>')
    if chart.target is not None:
        value, text = chart.target
        parts.append(f'<line class="app-chart__target" x1="{x(value)}" y1="{_TOP - 12}" x2="{x(value)}" '
                     f'y2="{axis_y}" stroke="{_TEXT_COLOUR}" stroke-width="3" stroke-dasharray="8 5"/>')
        parts.append(f'<text x="{x(value)}" y="{_TOP - 18}" text-anchor="middle" font-weight="bold" '
                     f'fill="{_TEXT_COLOUR}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
