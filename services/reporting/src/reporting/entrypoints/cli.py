"""The command-line tools: report, audit-pack, rebuild, sync-ledger and the auditor's one-command rebuild.

Thin: parse, build what the command needs from Settings, call the service, print.
"""
from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ..bootstrap import make_pool
from ..config import Settings
from ..render import render
from ..render.text import to_text
from ..reports import REGISTRY, BadParameter, ReportQuery, run_report
from ..service.audit_pack import build_audit_pack, headline
from ..service.ledger_sync import sync_ledger
from ..service.rebuild import rebuild_from_journal, rebuild_from_topics


def last_year_end(today: date | None = None) -> date:
    """The most recent 31 March strictly before today: the end of the last complete financial year."""
    today = today or date.today()
    year = today.year if (today.month, today.day) > (3, 31) else today.year - 1
    return date(year, 3, 31)


def query_from(args) -> ReportQuery:
    """The query of parsed arguments (entrypoints.arguments typed and checked them)."""
    return ReportQuery(args.council, args.as_of, args.known_at, dict(getattr(args, "param", None) or ()))


def refused(problem: str) -> int:
    print(f"reporting: {problem}", file=sys.stderr)
    return 2


async def cmd_report(settings: Settings, args) -> int:
    if args.name not in REGISTRY:
        return refused(f"unknown report {args.name!r}; one of: {', '.join(REGISTRY)}")
    conn = await asyncpg.connect(settings.database_url)
    try:
        table = await run_report(conn, args.name, query_from(args))
    except BadParameter as exc:
        return refused(f"{args.name}: {exc}")
    finally:
        await conn.close()
    data = to_text(table).encode() if args.format == "text" else render(table, args.format)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


async def cmd_audit_pack(settings: Settings, args) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        pack = await build_audit_pack(conn, query_from(args), Path(args.out))
    except BadParameter as exc:
        return refused(f"audit pack: {exc}")
    finally:
        await conn.close()
    print(f"audit pack: {pack.folder}\nzip: {pack.zip_path}")
    for key, value in headline(pack).items():
        print(f"  {key}: {value}")
    return 0


async def cmd_rebuild(settings: Settings, args) -> int:
    pool = await make_pool(settings)
    try:
        until = args.until
        if args.source == "journal":
            result = await rebuild_from_journal(settings, pool, resume=args.resume, progress=not args.quiet,
                                                until=until)
        else:
            result = await rebuild_from_topics(settings, pool, resume=args.resume, progress=not args.quiet,
                                               until=until)
    finally:
        await pool.close()
    print(f"rebuilt from {result.source}: {result.entries:,} entries, {result.rejections:,} rejections, "
          f"{result.domain_events:,} domain events" + (f", {result.outcomes:,} ledger outcomes" if result.outcomes else ""))
    if result.source == "journal" and result.entries:
        print(f"  journal copy: {result.seconds['entries']:.1f} s ({result.entries_per_second:,.0f} entries/s)")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


async def cmd_sync_ledger(settings: Settings, args) -> int:
    pool = await make_pool(settings)
    try:
        outcomes, check = await sync_ledger(settings.ledger_database_url, pool)
    finally:
        await pool.close()
    print(f"ledger outcomes copied: {outcomes:,}; ledger verify: {'OK' if check.ok else 'FAILED'}")
    print(check.output.strip())
    return 0 if check.ok else 1


async def cmd_auditor_rebuild(settings: Settings, args) -> int:
    """A fresh database, every projection rebuilt from the journal (and the domain topics), the ledger's
    chains verified, and every report as at the year end written as an audit pack."""
    from careruntime.migrate import create_database, migrate

    parts = urlsplit(settings.database_url)
    dsn = urlunsplit(parts._replace(path="/" + args.database))
    if not await asyncio.to_thread(create_database, dsn):
        print(f"database {args.database} already exists: name a fresh one", file=sys.stderr)
        return 2
    await asyncio.to_thread(migrate, dsn, str(settings.migrations_dir))
    fresh = settings.model_copy(update={"database_url": dsn, "group_id": f"reporting-audit-{args.database}"})
    as_of = args.as_of or last_year_end()
    print(f"fresh projection database {args.database}; rebuilding from the journal ...", flush=True)
    pool = await make_pool(fresh)
    try:
        result = await rebuild_from_journal(fresh, pool, progress=not args.quiet)
        print(f"  {result.entries:,} entries, {result.rejections:,} rejections, {result.domain_events:,} domain events")
        outcomes, check = await sync_ledger(fresh.ledger_database_url, pool)
        print(f"  ledger verify: {'OK' if check.ok else 'FAILED'}; {outcomes:,} outcomes")
        async with pool.acquire() as conn:
            pack = await build_audit_pack(conn, ReportQuery(args.council, as_of), Path(args.out),
                                          extra_meta={"Rebuilt from": "ledger journal (fresh database)",
                                                      "Ledger verify": "OK" if check.ok else "FAILED"})
    finally:
        await pool.close()
    print(f"audit pack as at {as_of}: {pack.folder}\nzip: {pack.zip_path}")
    for key, value in headline(pack).items():
        print(f"  {key}: {value}")
    return 0 if check.ok else 1


COMMANDS = {"report": cmd_report, "audit-pack": cmd_audit_pack, "rebuild": cmd_rebuild,
            "sync-ledger": cmd_sync_ledger, "auditor-rebuild": cmd_auditor_rebuild}


def run_command(settings: Settings, args) -> int:
    return asyncio.run(COMMANDS[args.command](settings, args))
