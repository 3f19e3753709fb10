"""The audit pack: every report for one council as at a date (optionally as known at a time), in every
machine format (CSV, JSON, XLSX, and one workbook with every report), the HTML pack page for people
(reporting.web.html), and a manifest of SHA-256 digests; one folder under out/ and a zip of it."""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import asyncpg

from ..domain.instants import utc_instant
from ..render import to_csv, to_json, to_xlsx
from ..reports import REGISTRY, ReportQuery, ReportTable, check_params_of, run_report


@dataclass(frozen=True)
class AuditPack:
    folder: Path
    zip_path: Path
    tables: tuple[ReportTable, ...]
    manifest: dict


def pack_name(query: ReportQuery) -> str:
    moment = utc_instant(query.known_at) if query.known_at else None  # %Y writes year 1 as "1": padded by hand
    known = f"-known-{moment.year:04d}{moment:%m%dT%H%M%SZ}" if moment else ""
    return f"audit-pack-{query.council_id}-{query.as_of.isoformat()}{known}"


def _html_page(tables: Sequence[ReportTable], meta: dict[str, str]) -> str:
    from ..web.html import render_audit_pack_page  # R2's renderer; the pack uses the same page as the web

    return render_audit_pack_page(tables, meta)


async def build_audit_pack(conn: asyncpg.Connection, query: ReportQuery, out_dir: Path,
                           names: Sequence[str] | None = None, extra_meta: dict[str, str] | None = None) -> AuditPack:
    names = list(names or REGISTRY)
    check_params_of(names, query)  # each parameter goes to the reports that take it
    tables = tuple([await run_report(conn, name, query, only_its_params=True) for name in names])
    folder = out_dir / pack_name(query)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files: dict[str, bytes] = {}
    for table in tables:
        files[f"{table.name}.csv"] = to_csv(table)
        files[f"{table.name}.json"] = to_json(table)
        files[f"{table.name}.xlsx"] = to_xlsx([table])
    files["all-reports.xlsx"] = to_xlsx(tables)
    generated = datetime.now(timezone.utc).replace(microsecond=0)
    meta = {"Council": query.council_id, "As at (effective date)": query.as_of.isoformat(),
            "As known at (recorded time)": query.known_at.isoformat() if query.known_at else "now (everything recorded)",
            "Generated": generated.isoformat(), "Reports": str(len(tables)), **(extra_meta or {})}
    files["index.html"] = _html_page(tables, meta).encode("utf-8")
    for name, content in files.items():
        (folder / name).write_bytes(content)
    manifest = {"meta": meta, "files": {name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())},
                "rows": {t.name: len(t.rows) for t in tables}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    zip_path = Path(shutil.make_archive(str(folder), "zip", root_dir=folder.parent, base_dir=folder.name))
    return AuditPack(folder, zip_path, tables, manifest)


def headline(pack: AuditPack) -> dict[str, object]:
    """A few figures an auditor looks at first, taken from the pack's own tables."""
    by_name = {t.name: t for t in pack.tables}
    figures: dict[str, object] = {}
    tb = by_name.get("trial_balance")
    if tb:
        total = tb.as_dicts()[-1]
        figures["trial_balance_debits_pence"] = total["debit_pence"]
        figures["trial_balance_net_pence"] = total["balance_pence"]
    spend = by_name.get("provider_type_spend")
    if spend:
        alls = [r for r in spend.rows if r[1] == "ALL"]
        if alls:
            whole = sum(r[3] for r in alls)
            figures["spend_pence"] = whole
            ext = sum((r[5] or 0) * r[3] for r in alls)
            figures["external_share"] = round(ext / whole, 4) if whole else None
    integrity = by_name.get("ledger_integrity")
    if integrity:
        figures["integrity_failures"] = sum(1 for r in integrity.rows if r[2] == "FAILED")
        figures["integrity_not_checked"] = sum(1 for r in integrity.rows if r[2] == "not checked")
    after = by_name.get("payments_after_end_or_death")
    if after:
        figures["payments_after_end_or_death_posted"] = sum(1 for r in after.rows if r[-1] == "posted")
    return figures


