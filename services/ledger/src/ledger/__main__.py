"""python -m ledger {worker|relay|verify|migrate|rules|native|native-build}: the ledger's processes and tools."""
from __future__ import annotations

import argparse
import asyncio
import sys

from careruntime.cli_args import database_or_exit, process_or_exit, settings_or_exit

from .config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledger", description="The care budget ledger service.")
    parser.add_argument("command", choices=["worker", "relay", "verify", "migrate", "rules", "native", "native-build"])
    args = parser.parse_args(argv)
    if args.command in ("native", "native-build"):  # how the decision code runs (ledger.native)
        from . import native
        if args.command == "native-build":
            native.build()
        print(f"ledger decision code: {native.mode() if args.command == 'native' else native.decide()}")
        return 0
    if args.command == "rules":
        from .service.rules_doc import render
        print(render(), end="")
        return 0
    settings = settings_or_exit(Settings, "ledger")
    if args.command == "migrate":
        from careruntime.migrate import migrate
        database_or_exit("ledger", lambda: migrate(settings.database_url, str(settings.migrations_dir)))
        return 0
    if args.command == "verify":
        from .entrypoints.verify import run_verify
        return database_or_exit("ledger", lambda: asyncio.run(run_verify(settings)))
    from .entrypoints.run import run_relay, run_worker
    import uvloop
    process_or_exit("ledger", lambda: uvloop.run(run_worker(settings) if args.command == "worker" else run_relay(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
