"""`python -m caretools.bench_replicas`: the ledger scaled out, N worker processes in one consumer group
against one worker process, on the same events in the same run (issue 2; ARCHITECTURE.md's "more ledger
replicas in one consumer group").

Each path gets a fresh database and fresh topics preloaded with the same generated events (as
`caretools.bench`), then starts its `python -m ledger worker` processes together and stops them once the
offsets they stored in PostgreSQL reach the topics' end offsets. Rates run from the journal's first to its
last `committed_at`; CPU per event is the workers' own (utime + stime from /proc), PostgreSQL's and the
broker's. Scale-out must not change a decision: both paths' fingerprints (outcomes, entries, lines,
balances by account kind, chain length per shard) must be equal and `verify` must pass on both, or the
exit code is 1.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
from careruntime.stackinfo import StackInfo
from ledger.service.verify import verify

from . import localstack
from .bench import (
    Prepared,
    _cpu_ticks,
    delete_prepared,
    fingerprint,
    make_events,
    prepare,
)
from .bench_cpu import StackCpu, _stat


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers_cpu(procs: list[subprocess.Popen]) -> float:
    return sum((_stat(p.pid) or (0, 0.0))[1] for p in procs)


def _start_workers(env: dict, replicas: int, logs: Path, name: str) -> list[subprocess.Popen]:
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    for n in range(replicas):
        with open(logs / f"{name}-{n}.log", "wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "ledger", "worker"],
                                          env={**env, "LEDGER_HEALTH_PORT": str(_free_port())},
                                          stdout=log, stderr=subprocess.STDOUT))
    return procs


async def run_path(info: StackInfo, prep: Prepared, replicas: int, timeout_s: float, logs: Path) -> dict:
    """Start `replicas` ledger workers on the preloaded input, wait until it is consumed, take the figures."""
    topics = prep.topics
    group = f"ledger-{prep.name}"
    env = {**os.environ, "LEDGER_KAFKA_BOOTSTRAP": info.bootstrap, "LEDGER_DATABASE_URL": prep.dsn,
           "LEDGER_GROUP_ID": group, "LEDGER_BUDGET_TOPICS": json.dumps([topics["allocation.events.v1"]]),
           "LEDGER_OTHER_TOPICS": json.dumps([topics["payments.events.v1"]]),
           "LEDGER_ENTRIES_TOPIC": topics["ledger.entries.v1"], "LEDGER_LOG_LEVEL": "WARNING"}
    conn = await asyncpg.connect(prep.dsn)
    try:
        stack_cpu = await StackCpu.of_stack(localstack.REPO, conn)
    finally:
        await conn.close()
    procs = _start_workers(env, replicas, logs, prep.name)
    stack_cpu.start()
    ticks0, t0 = _cpu_ticks(), time.perf_counter()
    try:
        waiter = asyncio.create_task(localstack.wait_consumed(prep.dsn, group, prep.targets, timeout_s,
                                                              outbox_empty=False))
        while not waiter.done():
            dead = [p.args for p in procs if p.poll() is not None]
            if dead:
                waiter.cancel()
                raise RuntimeError(f"a ledger worker exited before the input was consumed; see {logs}")
            await asyncio.sleep(0.2)
        waiter.result()
        wall_s = time.perf_counter() - t0
        workers_cpu_s = _workers_cpu(procs)
    finally:
        ticks1 = _cpu_ticks()
        stack_cpu.stop()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    conn = await asyncpg.connect(prep.dsn)
    try:
        entries = await conn.fetchval("SELECT count(*) FROM journal_entries")
        first, last = await conn.fetchrow("SELECT min(committed_at), max(committed_at) FROM journal_entries")
        events = sum(prep.targets.values())
        busy_s = (last - first).total_seconds()
        report = await verify(conn)
        figures = {
            "replicas": replicas, "events": events, "entries": entries, "wall_s": round(wall_s, 2),
            "busy_s": round(busy_s, 2), "entries_per_s": round(entries / busy_s, 1),
            "events_per_s": round(events / busy_s, 1),
            "cpu_us_per_event": {
                "workers": round(workers_cpu_s / events * 1e6, 1),
                **{k: (round(v / events * 1e6, 1) if v is not None else None) for k, v in stack_cpu.seconds.items()}},
            "machine_cpu_busy": round((ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1]), 3),
            "verify_ok": report.ok, "fingerprint": await fingerprint(conn),
        }
    finally:
        await conn.close()
    return figures


def render(paths: list[dict]) -> str:
    rows = [("ledger worker processes", lambda p: f"{p['replicas']}"),
            ("events consumed", lambda p: f"{p['events']:,}"),
            ("entries posted", lambda p: f"{p['entries']:,}"),
            ("first -> last commit, s", lambda p: f"{p['busy_s']:.2f}"),
            ("sustained postings/s (entries)", lambda p: f"{p['entries_per_s']:,.0f}"),
            ("sustained events/s", lambda p: f"{p['events_per_s']:,.0f}"),
            ("CPU us/event: workers", lambda p: f"{p['cpu_us_per_event']['workers']:.0f}"),
            ("CPU us/event: PostgreSQL / Kafka",
             lambda p: f"{p['cpu_us_per_event'].get('postgres') or 0:.0f} / {p['cpu_us_per_event'].get('kafka') or 0:.0f}"),
            ("machine CPU busy", lambda p: f"{p['machine_cpu_busy']:.0%}"),
            ("verify (chains, balances)", lambda p: "OK" if p["verify_ok"] else "FAILED")]
    out = ["=== Ledger scale-out: N worker processes in one consumer group vs one, same events ===",
           f"  {'':<36}" + "".join(f"{'path ' + str(i + 1):>16}" for i in range(len(paths)))]
    for label, cell in rows:
        out.append(f"  {label:<36}" + "".join(f"{cell(p):>16}" for p in paths))
    base = paths[0]["entries_per_s"]
    out.append("")
    for p in paths[1:]:
        out.append(f"  {p['replicas']} workers / 1 worker, postings/s: {p['entries_per_s'] / base:.2f}x")
    same = all(p["fingerprint"] == paths[0]["fingerprint"] for p in paths)
    out.append(f"  same decisions (fingerprint: outcomes, entries, lines, balances, chains): {'yes' if same else 'NO'}")
    return "\n".join(out)


async def run(args) -> int:
    started_stack = not localstack.stack_running()
    if started_stack:
        localstack.stack_up()
    info = StackInfo.from_env(localstack.REPO)
    run_id = time.strftime("%Y%m%d%H%M%S")
    people, messages = make_events(args.events, args.seed)
    print(f"generated {len(messages):,} events ({people:,} people); preloading two copies ...", flush=True)
    preps: list[Prepared] = []
    try:
        for n, replicas in enumerate((1, args.replicas)):
            preps.append(await prepare(info, f"r{replicas}", messages, db=f"ledger_bench_r{n}",
                                       prefix=f"benchr{run_id}{n}."))
        del messages
        paths = []
        for prep, replicas in zip(preps, (1, args.replicas), strict=True):
            print(f"{replicas} worker process(es) ...", flush=True)
            paths.append(await run_path(info, prep, replicas, args.timeout, Path(args.logs)))
            print(f"  {paths[-1]['entries_per_s']:,.0f} postings/s", flush=True)
        print(render(paths))
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"people": people, "seed": args.seed, "paths": paths}, indent=2, default=str) + "\n")
        print(f"\nfigures written to {out}")
        same = all(p["fingerprint"] == paths[0]["fingerprint"] for p in paths)
        return 0 if same and all(p["verify_ok"] for p in paths) else 1
    finally:
        await delete_prepared(info, preps, "bench_replicas")
        if started_stack:
            localstack.stack_down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--replicas", type=int, default=2, help="worker processes of the scaled-out path")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--logs", default="out/bench-replicas-logs")
    parser.add_argument("--json", default="out/bench-ledger-replicas.json")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
