"""Plain text: an aligned table for a terminal, pence shown as pounds (the machine formats keep pence)."""
from __future__ import annotations

from ..reports.contract import ReportTable


def _cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "pence":
        return f"{value / 100:,.2f}"
    if kind == "int":
        return f"{value:,}"
    if kind == "ratio":
        return f"{value * 100:.1f}%"
    return str(value)


def to_text(table: ReportTable) -> str:
    q = table.query
    head = [c.title + (" (£)" if c.kind == "pence" else "") for c in table.columns]
    body = [[_cell(v, c.kind) for v, c in zip(row, table.columns)] for row in table.rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(head)]
    right = [c.kind in ("pence", "int", "ratio") for c in table.columns]

    def line(cells):
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    scope = f"council {q.council_id}, as at {q.as_of.isoformat()}" + (
        f", as known at {q.known_at.isoformat()}" if q.known_at else "")
    out = [f"{table.title} ({scope})", line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    out += [""] + [f"* {n}" for n in table.notes]
    return "\n".join(out) + "\n"
