"""python -m allocation {worker|relay|migrate|views|policy}: the allocation service's processes and tools."""
from __future__ import annotations

import argparse
import sys

from careruntime.cli_args import council, database_or_exit, process_or_exit, settings_or_exit

from .config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="allocation", description="The personal budget allocation service.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="consume allocation commands, emit events (exactly once into PostgreSQL)")
    sub.add_parser("relay", help="publish the outbox to Kafka")
    sub.add_parser("migrate", help="create the database if missing and apply migrations")
    sub.add_parser("views", help="faust app: read-only budget summaries over HTTP")
    policy = sub.add_parser("policy", help="show or set a council's policy")
    policy.add_argument("council_id", type=council)
    policy.add_argument("settings", nargs="*", metavar="KEY=JSON",
                        help='e.g. payment_frequency_weeks=2 allowed_contribution_modes=\'["netted"]\'')
    args = parser.parse_args(argv)
    settings = settings_or_exit(Settings, "allocation")
    if args.command == "migrate":
        from careruntime.migrate import migrate
        database_or_exit("allocation", lambda: migrate(settings.database_url, str(settings.migrations_dir)))
        return 0
    if args.command == "policy":
        import asyncio

        from .entrypoints.policy import run_policy
        return asyncio.run(run_policy(settings, args.council_id, args.settings))
    if args.command == "views":
        from .entrypoints.views import run_views
        return run_views(settings)
    import uvloop

    from .entrypoints.run import run_relay, run_worker
    process_or_exit("allocation", lambda: uvloop.run(run_worker(settings) if args.command == "worker" else run_relay(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
