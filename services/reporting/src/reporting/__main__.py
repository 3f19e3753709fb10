"""python -m reporting {worker|migrate|list|report|audit-pack|rebuild|sync-ledger|auditor-rebuild}."""
from __future__ import annotations

import argparse
import sys

from .config import Settings
from careruntime.cli_args import council, iso_date, process_or_exit

from .entrypoints.arguments import iso_instant, param


def _scope(p: argparse.ArgumentParser, as_of_required: bool = True) -> None:
    p.add_argument("--council", required=True, type=council, help="council id (tenant)")
    p.add_argument("--as-of", required=as_of_required, type=iso_date, help="effective date, YYYY-MM-DD")
    p.add_argument("--known-at", type=iso_instant, help="recorded time, ISO 8601 (default: everything recorded)")
    p.add_argument("--param", action="append", type=param, metavar="KEY=VALUE",
                   help="report parameter (repeatable); `list` names each report's")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reporting", description="Projections, replay and the audit reports.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="project ledger.entries and the domain topics (exactly once into PostgreSQL)")
    sub.add_parser("migrate", help="create the database if missing and apply migrations")
    sub.add_parser("list", help="list the reports")
    report = sub.add_parser("report", help="run one report")
    report.add_argument("name")
    _scope(report)
    report.add_argument("--format", default="text", choices=["text", "csv", "json", "xlsx"])
    report.add_argument("--output", help="write to this file instead of stdout")
    pack = sub.add_parser("audit-pack", help="every report in every format, HTML and a zip, under --out")
    _scope(pack)
    pack.add_argument("--out", default="out")
    rebuild = sub.add_parser("rebuild", help="rebuild the projections from the ledger journal or the topics")
    rebuild.add_argument("--from", dest="source", required=True, choices=["journal", "topics"])
    rebuild.add_argument("--resume", action="store_true", help="continue an interrupted rebuild")
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.add_argument("--until", type=iso_instant, help="keep only what was recorded by this time (ISO 8601): the projection "
                                         "as it was then; do not run the worker on it afterwards")
    sub.add_parser("sync-ledger", help="copy the ledger's outcome log and record `ledger verify`")
    auditor = sub.add_parser("auditor-rebuild", help="fresh database + rebuild from the journal + audit pack "
                                                     "as at the last year end")
    auditor.add_argument("--council", required=True, type=council)
    auditor.add_argument("--database", required=True, help="name of the fresh projection database to create")
    auditor.add_argument("--as-of", type=iso_date, help="default: the last 31 March")
    auditor.add_argument("--out", default="out")
    auditor.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    if args.command == "migrate":
        from careruntime.migrate import migrate
        migrate(settings.database_url, str(settings.migrations_dir))
        return 0
    if args.command == "list":
        from .reports import REGISTRY
        for spec in REGISTRY.values():
            print(f"{spec.name:30} {spec.description}")
        return 0
    if args.command == "worker":
        import uvloop

        from .entrypoints.worker import run_worker
        process_or_exit("reporting", lambda: uvloop.run(run_worker(settings)))
        return 0
    from .entrypoints.cli import run_command
    return run_command(settings, args)


if __name__ == "__main__":
    sys.exit(main())
