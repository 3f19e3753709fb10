"""Where the local Kafka + PostgreSQL stack listens, and probes that tell whether it answers.

Owns the addresses that deploy/local/stack.sh uses (ports from the same environment variables, with
the same defaults) and the readiness checks that stack.sh and the integration-test fixtures share:
`kafka_answers` (a real admin round trip, not just an open port) and `postgres_answers`, and
`await_kafka`, with which a process started before its broker waits for it (the allocation views).

CLI, used by stack.sh:
    python -m careruntime.stackinfo wait-kafka --bootstrap 127.0.0.1:9092 [--timeout 60]
    python -m careruntime.stackinfo kafka-answers --bootstrap 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
PG_USER = "careledger"


@dataclass(frozen=True)
class StackInfo:
    """Addresses of one running stack (the developer's demo stack or the test session's)."""

    repo_root: Path
    kafka_port: int = 9092
    pg_port: int = 55432
    host: str = HOST
    pg_user: str = PG_USER

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    def dsn(self, dbname: str) -> str:
        return f"postgresql://{self.pg_user}@{self.host}:{self.pg_port}/{dbname}"

    @classmethod
    def from_env(cls, repo_root: Path, env: Mapping[str, str] | None = None) -> StackInfo:
        env = os.environ if env is None else env
        return cls(
            repo_root=repo_root,
            kafka_port=int(env.get("KAFKA_PORT", "9092")),
            pg_port=int(env.get("PG_PORT", "55432")),
        )


async def kafka_answers(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True when a broker at `bootstrap` answers a metadata request within `timeout_s`."""
    from aiokafka.admin import AIOKafkaAdminClient

    from .kafka_security import client_options

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=max(1000, int(timeout_s * 1000)), **client_options()
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.list_topics()
        return True
    except Exception:  # any failure means "not ready yet"; the caller decides what to do
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            pass


async def wait_for_kafka(bootstrap: str, timeout_s: float = 60.0) -> None:
    """Wait until the broker answers, or raise TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s")
        if await kafka_answers(bootstrap, timeout_s=min(5.0, remaining)):
            return
        await asyncio.sleep(0.5)


async def await_kafka(bootstrap: str, log: logging.Logger, retry_max_s: float = 5.0) -> int:
    """Wait however long it takes until the broker answers, a warning line per failed attempt (backing off
    from 0.5 s to `retry_max_s`); returns the number of failed attempts."""
    attempts = 0
    while not await kafka_answers(bootstrap):
        attempts += 1
        delay = min(0.25 * 2 ** attempts, retry_max_s)
        log.warning("Kafka at %s unreachable at start (attempt %d); will retry in %.1fs", bootstrap, attempts, delay)
        await asyncio.sleep(delay)
    return attempts


def postgres_answers(dsn: str, timeout_s: int = 3) -> bool:
    """True when PostgreSQL accepts a connection and a trivial query at `dsn`."""
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=timeout_s) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m careruntime.stackinfo")
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait-kafka", help="wait until the broker answers")
    wait.add_argument("--bootstrap", required=True)
    wait.add_argument("--timeout", type=float, default=60.0)
    probe = sub.add_parser("kafka-answers", help="exit 0 if the broker answers now")
    probe.add_argument("--bootstrap", required=True)
    probe.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)

    # aiokafka logs every refused connection at ERROR while we poll; that is expected here.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if args.command == "wait-kafka":
        try:
            asyncio.run(wait_for_kafka(args.bootstrap, args.timeout))
        except TimeoutError as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    return 0 if asyncio.run(kafka_answers(args.bootstrap, args.timeout)) else 1


if __name__ == "__main__":
    sys.exit(main())
