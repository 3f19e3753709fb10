"""`make demo`: a synthetic year for one council through the real Kafka and PostgreSQL, end to end.

Starts the local stack if needed, makes a fresh ledger database and a fresh set of topics for this
run, starts the ledger worker and relay, publishes the year (with bad input mixed in), waits until
everything is consumed and relayed, prints the summary, and stops what it started.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time

from careruntime.stackinfo import StackInfo

from . import localstack
from .badinput import bad_messages
from .generator import generate
from .summary import collect, render


async def run(people: int, seed: int, timeout_s: float) -> int:
    started_stack = not localstack.stack_running()
    if started_stack:
        print("starting the local stack (Kafka 4.1 KRaft + PostgreSQL) ...", flush=True)
        localstack.stack_up()
    info = StackInfo.from_env(localstack.REPO)
    run_id = time.strftime("%Y%m%d%H%M%S")
    out = localstack.REPO / "out"
    worker = relay = None
    try:
        dsn = await localstack.fresh_database(info, "ledger_demo")
        topics = await localstack.fresh_topics(info, f"demo{run_id}.")
        print(f"generating a synthetic year: {people} people, seed {seed} ...", flush=True)
        valid = generate(people=people, seed=seed)
        messages = valid + bad_messages(valid, "E10000099")
        group = f"ledger-demo-{run_id}"
        env = localstack.ledger_env(info, dsn, topics, group, health_port=18081)
        worker = localstack.LedgerProcess("worker", env, out / "logs" / "ledger-worker.log")
        relay = localstack.LedgerProcess("relay", env, out / "logs" / "ledger-relay.log")
        worker.start()
        relay.start()
        t0 = time.perf_counter()
        sent_s = await localstack.produce(info.bootstrap, messages, topics)
        print(f"published {len(messages):,} messages in {sent_s:.1f} s; waiting for the ledger ...", flush=True)
        targets = await localstack.end_offsets(info.bootstrap, [topics["allocation.events.v1"], topics["payments.events.v1"]])
        await localstack.wait_consumed(dsn, group, targets, timeout_s)
        elapsed = time.perf_counter() - t0
        summary = await collect(dsn, info.bootstrap, topics)
        print(render(summary, len(messages), elapsed))
        out.mkdir(exist_ok=True)
        (out / "demo-summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        print(f"\nsummary written to {out / 'demo-summary.json'}; logs in {out / 'logs'}")
        return 0 if summary["verify"]["ok"] else 1
    finally:
        for proc in (worker, relay):
            if proc:
                proc.stop()
        if started_stack:
            localstack.stack_down()
            print("local stack stopped")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # leader elections of fresh topics are noisy
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    return asyncio.run(run(args.people, args.seed, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
