"""python -m payments {worker|relay|timer|migrate|policy|run|statement}: the payments service's
processes and the council CLI."""
from __future__ import annotations

import argparse
import asyncio
import sys

from careruntime.cli_args import actor, council, identifier, iso_date, process_or_exit, seconds, settings_or_exit

from .config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payments", description="Direct payments, invoices, runs and bank files.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="consume allocation events and payments commands (exactly once into PostgreSQL)")
    sub.add_parser("relay", help="publish the outbox to Kafka")
    sub.add_parser("timer", help="make direct-payment periods due on the business clock")
    sub.add_parser("migrate", help="create the database if missing and apply migrations")
    policy = sub.add_parser("policy", help="show or set a council's payments policy")
    policy.add_argument("council_id", type=council)
    policy.add_argument("settings", nargs="*", metavar="KEY=JSON", help="e.g. dp_frequency_weeks=2 surplus_weeks=12")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--council", required=True, type=council, help="council id (tenant)")
        p.add_argument("--effective-date", type=iso_date, default=None)
        p.add_argument("--timeout", type=seconds, default=120.0, help="seconds to wait for the worker's decision")
        p.add_argument("--command-id", type=identifier, default=None,
                       help="resend a command under its first id (idempotent)")

    run = sub.add_parser("run", help="payment runs: create, approve, export")
    run_sub = run.add_subparsers(dest="action", required=True)
    create = run_sub.add_parser("create", help="gather every payment due on or before --due-on")
    create.add_argument("run_id", type=identifier)
    create.add_argument("--by", required=True, type=actor, help="who creates the run")
    create.add_argument("--due-on", type=iso_date, default=None)
    approve = run_sub.add_parser("approve", help="approve a run (not its creator)")
    approve.add_argument("run_id", type=identifier)
    approve.add_argument("--by", required=True, type=actor, help="who approves the run")
    export = run_sub.add_parser("export", help="write the run's bank file")
    export.add_argument("run_id", type=identifier)
    export.add_argument("--format", choices=("bacs18", "pain001"), default="bacs18")
    for p in (create, approve, export):
        common(p)

    statement = sub.add_parser("statement", help="bank statements: import a camt.053/054 file")
    st_sub = statement.add_subparsers(dest="action", required=True)
    imp = st_sub.add_parser("import", help="settle and return the payments a statement shows; list the rest")
    imp.add_argument("file")
    common(imp)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_or_exit(Settings, "payments")
    if args.command == "migrate":
        from careruntime.migrate import migrate
        migrate(settings.database_url, str(settings.migrations_dir))
        return 0
    if args.command == "policy":
        from .entrypoints.policy import run_policy
        return asyncio.run(run_policy(settings, args.council_id, args.settings))
    if args.command in ("run", "statement"):
        from .entrypoints import cli
        handler = cli.run_command if args.command == "run" else cli.statement_import
        return asyncio.run(handler(settings, args))
    import uvloop

    from .entrypoints.run import run_relay, run_timer_process, run_worker
    entry = {"worker": run_worker, "relay": run_relay, "timer": run_timer_process}[args.command]
    process_or_exit("payments", lambda: uvloop.run(entry(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
