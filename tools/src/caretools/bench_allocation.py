"""`make bench` (allocation part): commands/s through the allocation service and on into the ledger,
batched versus one command per transaction, in one run.

What is measured, per path, on the real local stack (started if not running, like `make demo`):
  commands on allocation.commands.v1 -> allocation worker (decisions, state, processed_commands,
  outbox rows and consumed offsets in one PostgreSQL transaction per batch) -> allocation relay
  (`python -m allocation relay`, a Kafka transaction per pass) -> allocation.events.v1 -> ledger
  worker (`python -m ledger worker`) -> journal entries.

Method:
  1. generate a year with caretools.generator in its commands form, scaled to the requested count;
  2. fresh databases and topics per path; register the providers first (not measured: a case system
     waits for ProviderRegistered before commissioning);
  3. preload the budget commands, THEN start the allocation worker (in this process, built by
     allocation.bootstrap.make_worker, on uvloop like `python -m allocation worker`). The clock runs
     from its start; each committed batch is recorded through the consumer's metrics hook.
Paths: "alone" runs the worker with nothing else of ours running, then starts the relay and the ledger
and times how long they take to drain what it wrote; "pipeline" runs relay and ledger beside the
worker all along (all three share the machine's cores with PostgreSQL and Kafka); "naive" (the
baseline) is the pipeline with max_records=1, one command per transaction, on a prefix of the commands.
Figures: sustained commands/s of the worker (first batch -> last commit), commands/s until the relay
has published every event, and commands/s until the ledger has consumed every event (end to end).
Only ratios mean much on a shared machine. Figures go to stdout and to out/bench-allocation.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from allocation.bootstrap import make_pool, make_worker
from allocation.config import Settings
from careruntime.consumer import ConsumerSettings
from careruntime.logging import configure_logging
from careruntime.processes import tune_gc
from careruntime.stackinfo import StackInfo
from careruntime.topics import delete_topics

from . import localstack
from .bench import RecordingMetrics, _quantile
from .generator import generate
from .messages import Message

OUT = localstack.REPO / "out"
TARGET_COMMANDS_PER_S = 10_000
COMMANDS_PER_PERSON = 5.05  # generator, commands form: calibrated at seed 2026 (plus 114 provider commands)
PROVIDER_TYPES = (b'"allocation.RegisterProvider.v1"', b'"allocation.ChangeProviderBankDetails.v1"')


def make_commands(count: int, seed: int) -> tuple[int, list[Message], list[Message]]:
    """(people, provider commands, about `count` budget commands) of one generated year."""
    people = max(1, math.ceil(count / COMMANDS_PER_PERSON))
    commands = [m for m in generate(people=people, seed=seed, allocation="commands")
                if m.topic == "allocation.commands.v1"]
    providers = [m for m in commands if any(t in m.value for t in PROVIDER_TYPES)]
    return people, providers, [m for m in commands if not any(t in m.value for t in PROVIDER_TYPES)]


@dataclass
class PathResult:
    name: str
    max_records: int
    commands: int = 0
    outcomes: dict = field(default_factory=dict)
    events: int = 0
    ledger_entries: int = 0
    startup_s: float = 0.0  # worker start -> first batch transaction begins
    busy_s: float = 0.0  # first batch begins -> last batch committed
    published_s: float = 0.0  # worker start -> outbox empty (every event on the topic)
    ledger_s: float = 0.0  # worker start -> the ledger's stored offsets reach the last event
    drain_s: float | None = None  # "alone": relay and ledger started after the worker -> ledger done
    worker_cpu_s: float = 0.0
    batches: list[tuple[float, int, float]] = field(default_factory=list, repr=False)

    def rate(self, seconds: float) -> float:
        return self.commands / seconds if seconds else 0.0

    def figures(self) -> dict:
        sizes = [n for _, n, _ in self.batches]
        commits = [s for _, _, s in self.batches]
        return {
            "path": self.name, "max_records": self.max_records, "commands": self.commands,
            "outcomes": self.outcomes, "events_emitted": self.events, "ledger_entries": self.ledger_entries,
            "startup_s": round(self.startup_s, 3), "busy_s": round(self.busy_s, 3),
            "published_s": round(self.published_s, 3), "ledger_s": round(self.ledger_s, 3),
            "commands_per_s_sustained": round(self.rate(self.busy_s), 1),
            "commands_per_s_published": round(self.rate(self.published_s), 1),
            "commands_per_s_into_ledger": round(self.rate(self.ledger_s), 1),
            "batches": len(self.batches), "batch_commands_max": max(sizes, default=0),
            "batch_commit_ms": {"p50": round(1000 * _quantile(commits, 0.5), 2),
                                "p99": round(1000 * _quantile(commits, 0.99), 2)},
            "worker_cpu_us_per_command": round(1e6 * self.worker_cpu_s / self.commands, 1) if self.commands else None,
            "downstream_drain_s": round(self.drain_s, 3) if self.drain_s is not None else None,
        }


class Deployment:
    """One path's fresh databases, topics, relay and ledger worker (child processes)."""

    def __init__(self, info: StackInfo, name: str, run_id: str) -> None:
        self.info, self.name, self.run_id = info, name, run_id
        self.topics: dict[str, str] = {}
        self.procs: list[localstack.ServiceProcess] = []
        self.alloc_group, self.ledger_group = f"allocation-bench-{name}-{run_id}", f"ledger-bench-{name}-{run_id}"

    async def create(self) -> None:
        self.alloc_dsn = await localstack.fresh_database(self.info, f"allocation_bench_{self.name}", "allocation")
        self.ledger_dsn = await localstack.fresh_database(self.info, f"ledger_bench_alloc_{self.name}")
        self.topics = await localstack.fresh_topics(self.info, f"benchalloc{self.run_id}{self.name[0]}.")
        logs = OUT / "logs"
        alloc_env = localstack.allocation_env(self.info, self.alloc_dsn, self.topics, self.alloc_group,
                                              health_port=localstack.free_port_pair())
        ledger_env = localstack.ledger_env(self.info, self.ledger_dsn, self.topics, self.ledger_group,
                                           health_port=localstack.free_port_pair())
        self.procs = [localstack.ServiceProcess("relay", alloc_env, logs / "bench-allocation-relay.log", "allocation"),
                      localstack.ServiceProcess("worker", ledger_env, logs / "bench-ledger-worker.log", "ledger")]
        self.settings = Settings(kafka_bootstrap=self.info.bootstrap, database_url=self.alloc_dsn,
                                 group_id=self.alloc_group, commands_topic=self.topics["allocation.commands.v1"],
                                 events_topic=self.topics["allocation.events.v1"], log_level="WARNING")

    def start_downstream(self) -> None:
        """The allocation relay and the ledger worker, as child processes."""
        for proc in self.procs:
            proc.start()

    async def wait_allocation(self, targets: dict, timeout_s: float, outbox_empty: bool = True) -> float:
        return await localstack.wait_consumed(self.alloc_dsn, self.alloc_group, targets, timeout_s, outbox_empty)

    async def wait_ledger(self, timeout_s: float) -> float:
        targets = await localstack.record_ends(self.info.bootstrap, [self.topics["allocation.events.v1"]])
        return await localstack.wait_consumed(self.ledger_dsn, self.ledger_group, targets, timeout_s,
                                              outbox_empty=False)

    async def run_worker_until(self, targets: dict, max_records: int, timeout_s: float,
                               metrics: RecordingMetrics | None = None) -> None:
        pool = await make_pool(self.settings)
        worker = make_worker(self.settings, pool, ConsumerSettings(max_records=max_records))
        if metrics is not None:
            worker.consumer.metrics = metrics
        task = asyncio.create_task(worker.consumer.run())
        try:
            waiter = asyncio.create_task(self.wait_allocation(targets, timeout_s, outbox_empty=False))
            done, _ = await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                waiter.cancel()
                task.result()
                raise RuntimeError("the allocation worker stopped before consuming everything")
            waiter.result()
        finally:
            worker.consumer.request_stop()
            try:
                await asyncio.wait_for(task, timeout=30)
            except Exception:  # noqa: BLE001 - stopping is best effort; the figures are taken
                task.cancel()
            await pool.close()

    async def close(self) -> None:
        """Stop the processes and delete the topics (tens of MB of log per path); safe to call twice."""
        for proc in self.procs:
            proc.stop()
        topics, self.topics = list(self.topics.values()), {}
        if topics:
            try:
                await delete_topics(self.info.bootstrap, topics)
            except Exception as exc:  # noqa: BLE001 - clean-up only
                print(f"bench: could not delete topics of {self.name}: {exc!r}", file=sys.stderr)


async def measure(dep: Deployment, providers: list[Message], commands: list[Message], max_records: int,
                  timeout_s: float, concurrent: bool) -> PathResult:
    commands_topic = [dep.topics["allocation.commands.v1"]]
    if concurrent:
        dep.start_downstream()
    await localstack.produce(dep.info.bootstrap, providers, dep.topics)
    await dep.run_worker_until(await localstack.end_offsets(dep.info.bootstrap, commands_topic), 5_000, timeout_s)
    if concurrent:
        await dep.wait_allocation(await localstack.end_offsets(dep.info.bootstrap, commands_topic), timeout_s)
        await dep.wait_ledger(timeout_s)  # the ledger has noted the providers: it is up and assigned

    await localstack.produce(dep.info.bootstrap, commands, dep.topics)
    targets = await localstack.end_offsets(dep.info.bootstrap, commands_topic)
    result = PathResult(dep.name, max_records, commands=len(commands))
    metrics = RecordingMetrics()
    tune_gc()
    cpu0, t0 = time.process_time(), time.perf_counter()
    await dep.run_worker_until(targets, max_records, timeout_s, metrics)
    result.worker_cpu_s = time.process_time() - cpu0
    if not concurrent:
        worker_done = time.perf_counter()
        dep.start_downstream()
    await dep.wait_allocation(targets, timeout_s)
    result.published_s = time.perf_counter() - t0
    await dep.wait_ledger(timeout_s)
    result.ledger_s = time.perf_counter() - t0
    if not concurrent:
        result.drain_s = time.perf_counter() - worker_done
    result.batches = metrics.batches
    last_commit = max(t for t, _, _ in metrics.batches)
    first_begin = min(t - s for t, _, s in metrics.batches)
    result.startup_s, result.busy_s = first_begin - t0, last_commit - first_begin

    conn = await asyncpg.connect(dep.alloc_dsn)
    try:
        result.outcomes = dict(await conn.fetch(
            "SELECT outcome, count(*) FROM processed_commands WHERE command_type NOT LIKE '%Provider%' GROUP BY 1"))
        result.events = await conn.fetchval("SELECT coalesce(sum(cardinality(event_ids)), 0) FROM processed_commands "
                                            "WHERE command_type NOT LIKE '%Provider%'")
    finally:
        await conn.close()
    conn = await asyncpg.connect(dep.ledger_dsn)
    try:
        result.ledger_entries = await conn.fetchval("SELECT count(*) FROM journal_entries")
    finally:
        await conn.close()
    return result


def _row(label: str, *cells: str) -> str:
    return f"  {label:40}" + "".join(f"{c:>19}" for c in cells)


PATHS = ("alone", "pipeline", "naive")  # name: (concurrent relay and ledger, batched)


def render(results: dict[str, PathResult], people: int) -> str:
    f = [results[name].figures() for name in PATHS]
    alone, naive = f[0]["commands_per_s_sustained"], f[2]["commands_per_s_sustained"]
    pipeline = f[1]["commands_per_s_into_ledger"]
    ratio = f[1]["commands_per_s_sustained"] / naive if naive else float("nan")
    drain = f[0]["downstream_drain_s"]
    lines = [
        "",
        "=== Allocation command throughput: commands -> allocation (worker + relay) -> ledger ===",
        f"  generator: {people:,} people (commands form); providers registered first, not measured",
        _row("", "batched, alone", "batched, pipeline", "naive (baseline)"),
        _row("relay + ledger running beside the worker", "no (after)", "yes", "yes"),
        _row("commands per transaction (max)", *(f"{x['max_records']:,}" for x in f)),
        _row("commands", *(f"{x['commands']:,}" for x in f)),
        _row("accepted / rejected", *(f"{x['outcomes'].get('accepted', 0):,} / {x['outcomes'].get('rejected', 0):,}"
                                      for x in f)),
        _row("events emitted / ledger entries", *(f"{x['events_emitted']:,} / {x['ledger_entries']:,}" for x in f)),
        _row("worker start -> first batch, s", *(f"{x['startup_s']:.2f}" for x in f)),
        _row("first batch -> last commit, s", *(f"{x['busy_s']:.2f}" for x in f)),
        _row("sustained commands/s (worker)", *(f"{x['commands_per_s_sustained']:,.0f}" for x in f)),
        _row("commands/s until relayed (from start)", *(f"{x['commands_per_s_published']:,.0f}" for x in f)),
        _row("commands/s into the ledger (from start)", *(f"{x['commands_per_s_into_ledger']:,.0f}" for x in f)),
        _row("batches / largest", *(f"{x['batches']:,} / {x['batch_commands_max']:,}" for x in f)),
        _row("batch commit p50 / p99, ms", *(f"{x['batch_commit_ms']['p50']:.1f} / {x['batch_commit_ms']['p99']:.1f}"
                                             for x in f)),
        _row("worker CPU us/command", *(f"{x['worker_cpu_us_per_command'] or 0:.0f}" for x in f)),
        "",
        f"  alone: relay + ledger drained what the worker wrote in {drain:.1f} s after it finished",
        f"  batched / naive, sustained commands/s (both beside relay and ledger): {ratio:,.1f}x",
        f"  target {TARGET_COMMANDS_PER_S:,} commands/s sustained (worker alone): "
        f"{'MET' if alone >= TARGET_COMMANDS_PER_S else 'NOT MET'} ({alone:,.0f}); "
        f"whole pipeline beside it: {pipeline:,.0f} commands/s into the ledger",
    ]
    return "\n".join(lines)


async def run(args) -> int:
    started_stack = localstack.ensure_stack()
    info = StackInfo.from_env(localstack.REPO)
    run_id = time.strftime("%H%M%S")
    deployments: list[Deployment] = []
    try:
        t = time.perf_counter()
        people, providers, commands = make_commands(args.commands, args.seed)
        print(f"generated {len(commands):,} budget commands + {len(providers)} provider commands ({people:,} people, "
              f"seed {args.seed}) in {time.perf_counter() - t:.1f} s", flush=True)
        plan = {"naive": (args.baseline_commands, 1, True), "alone": (len(commands), args.max_records, False),
                "pipeline": (len(commands), args.max_records, True)}
        results = {}
        for name, (count, max_records, concurrent) in plan.items():
            dep = Deployment(info, name, run_id)
            deployments.append(dep)
            await dep.create()
            print(f"{name} path: {count:,} commands, up to {max_records:,} per transaction ...", flush=True)
            results[name] = await measure(dep, providers, commands[:count], max_records, args.timeout, concurrent)
            print(f"  {results[name].rate(results[name].busy_s):,.0f} commands/s sustained, "
                  f"{results[name].rate(results[name].ledger_s):,.0f} into the ledger", flush=True)
            await dep.close()
        print(render(results, people))
        report = {"people": people, "seed": args.seed, "target_commands_per_s": TARGET_COMMANDS_PER_S,
                  **{name: r.figures() for name, r in results.items()}}
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nfigures written to {out}")
        return 0
    except TimeoutError as exc:
        print(f"\nbench: not consumed in time (--timeout {args.timeout:.0f} s): {exc}", file=sys.stderr)
        return 2
    finally:
        for dep in deployments:
            await dep.close()
        localstack.release_stack(started_stack)


def main() -> int:
    localstack.quiet_logging()
    configure_logging("allocation-bench", "WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100_000, help="budget commands of the batched path")
    parser.add_argument("--baseline-commands", type=int, default=2_000, help="commands of the naive path")
    parser.add_argument("--max-records", type=int, default=5_000, help="batched path: commands per transaction")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--json", default=str(OUT / "bench-allocation.json"))
    args = parser.parse_args()
    import uvloop  # the worker's own event loop (python -m allocation worker)
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
