"""The command line as an auditor uses it, against a real ledger's year: one report in each machine format,
the audit pack (every report in every format, HTML, manifest, zip), a rebuild with its progress bar, and
the one command that rebuilds every report as at the year end from a fresh database."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from html import escape
from datetime import date

import asyncpg
import pytest
import pytest_asyncio
from openpyxl import load_workbook
from reporting.render.json import table_dict
from reporting.reports import REGISTRY, ReportQuery, run_report
from reporting.service.rebuild import rebuild_from_journal

from .ledger_harness import drop_database, module_deployment
from .reporting_harness import COUNCIL, Databases, feed, pool_for, reporting_cli, settings_for, split_year

pytestmark = [pytest.mark.integration, pytest.mark.slow]
YEAR_END = date(2027, 3, 31)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def built(stack, tmp_path_factory):
    async with module_deployment(stack, tmp_path_factory.mktemp("reporting-cli")) as run:
        valid, bad = split_year(30, 5)
        run.start()
        await feed(run, valid + bad)
        dbs = Databases(stack)
        try:
            dsn = await dbs.new()
            settings = settings_for(stack, dsn, run)
            pool = await pool_for(dsn)
            try:
                await rebuild_from_journal(settings, pool, progress=False)
            finally:
                await pool.close()
            yield settings
        finally:
            await dbs.drop_all()


async def expected(settings, name: str, query: ReportQuery):
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await run_report(conn, name, query)
    finally:
        await conn.close()


async def test_one_report_in_each_format(built, tmp_path):
    table = await expected(built, "trial_balance", ReportQuery(COUNCIL, YEAR_END))
    scope = ["--council", COUNCIL, "--as-of", YEAR_END.isoformat()]
    out = reporting_cli(built, "report", "trial_balance", *scope, "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout.decode())))
    assert rows[0] == [c.name for c in table.columns]
    assert [[int(v) if v.lstrip("-").isdigit() else v for v in r] for r in rows[1:]] == [list(r) for r in table.rows]
    out = reporting_cli(built, "report", "trial_balance", *scope, "--format", "json")
    assert json.loads(out.stdout) == json.loads(json.dumps(table_dict(table)))
    path = tmp_path / "tb.xlsx"
    out = reporting_cli(built, "report", "trial_balance", *scope, "--format", "xlsx", "--output", str(path))
    assert out.returncode == 0, out.stderr
    sheet = load_workbook(path).active
    assert [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2, max_row=1 + len(table.rows))] == [
        tuple(None if v == "" else v for v in r) for r in table.rows]
    out = reporting_cli(built, "report", "no_such_report", *scope)
    assert out.returncode == 2 and b"unknown report" in out.stderr
    # bad input: a clear error and exit 2, never a traceback (a bad date or time failed with one before, and a
    # parameter the report does not take was ignored)
    for args, says in [(["--param", "period=year"], b"period: not a parameter of this report"),
                       (["--param", "level=acount"], b"level='acount': expected one of account, group"),
                       (["--known-at", "yesterday"], b"argument --known-at: 'yesterday' is not a time")]:
        out = reporting_cli(built, "report", "trial_balance", *scope, *args)
        assert out.returncode == 2 and says in out.stderr and b"Traceback" not in out.stderr, out.stderr
    out = reporting_cli(built, "report", "trial_balance", "--council", COUNCIL, "--as-of", "2026-02-30")
    assert out.returncode == 2 and b"argument --as-of: '2026-02-30' is not a date" in out.stderr


async def test_the_audit_pack_holds_every_report_in_every_format(built, tmp_path):
    out = reporting_cli(built, "audit-pack", "--council", COUNCIL, "--as-of", YEAR_END.isoformat(), "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    manifest = json.loads((folder / "manifest.json").read_text())
    names = {f"{r}.{ext}" for r in REGISTRY for ext in ("csv", "json", "xlsx")} | {"all-reports.xlsx", "index.html"}
    assert set(manifest["files"]) == names
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert set(load_workbook(folder / "all-reports.xlsx").sheetnames) == set(REGISTRY)
    html = (folder / "index.html").read_text()
    titles = [json.loads((folder / f"{r}.json").read_text())["title"] for r in REGISTRY]
    assert all(escape(title) in html for title in titles)
    for name in REGISTRY:
        table = await expected(built, name, ReportQuery(COUNCIL, YEAR_END))
        assert json.loads((folder / f"{name}.json").read_text())["rows"] == json.loads(json.dumps(table_dict(table)))["rows"]
    with zipfile.ZipFile(folder.with_suffix(".zip")) as z:
        assert {n.split("/", 1)[1] for n in z.namelist() if not n.endswith("/")} == names | {"manifest.json"}


async def test_a_rebuild_shows_its_progress_and_gives_the_same_figures(stack, built):
    dbs = Databases(stack)
    try:
        fresh = built.model_copy(update={"database_url": await dbs.new()})
        out = reporting_cli(fresh, "rebuild", "--from", "journal")
        assert out.returncode == 0, out.stderr
        assert b"journal [" in out.stderr and b"100.0%" in out.stderr and b"domain topics [" in out.stderr
        assert b"rebuilt from journal" in out.stdout
        for name in REGISTRY:
            query = ReportQuery(COUNCIL, YEAR_END)
            assert (await expected(fresh, name, query)).rows == (await expected(built, name, query)).rows, name
    finally:
        await dbs.drop_all()


async def test_the_auditor_rebuilds_every_report_as_at_the_year_end_from_a_fresh_database(stack, built, tmp_path):
    database = f"t_reporting_audit_{uuid.uuid4().hex[:10]}"
    try:
        out = reporting_cli(built, "auditor-rebuild", "--council", COUNCIL, "--database", database,
                            "--as-of", YEAR_END.isoformat(), "--out", str(tmp_path))
        assert out.returncode == 0, out.stdout + out.stderr
        assert b"ledger verify: OK" in out.stdout
        folder = next(p for p in tmp_path.iterdir() if p.is_dir())
        for name in REGISTRY:
            pack_rows = json.loads((folder / f"{name}.json").read_text())["rows"]
            live = await expected(built, name, ReportQuery(COUNCIL, YEAR_END))
            if name != "ledger_integrity":  # the fresh one has the ledger's verdict and outcome log; built has not
                assert pack_rows == json.loads(json.dumps(table_dict(live)))["rows"], name
        integrity = json.loads((folder / "ledger_integrity.json").read_text())
        assert [r["status"] for r in integrity["rows"]] == ["ok"] * len(integrity["rows"])
        again = reporting_cli(built, "auditor-rebuild", "--council", COUNCIL, "--database", database)
        assert again.returncode == 2 and b"already exists" in again.stderr
    finally:
        await drop_database(stack, database)
