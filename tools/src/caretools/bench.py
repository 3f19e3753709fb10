"""`make bench`: ledger ingest end to end, batched versus one transaction per event, in one run.

What is measured: events on the ledger's input topics -> entries committed in PostgreSQL, with the
hash chain, the idempotency log, balances, working state, the rejections' outbox rows and the
consumed offsets all written in one transaction per batch (exactly-once as in production). Kafka and
PostgreSQL are the real local stack (started if not running, like `make demo`); the ledger worker runs
in this process, built by `ledger.bootstrap.build_worker` from a `Settings` object, on uvloop like
`python -m ledger worker`.

Method, per path:
  1. generate valid events with caretools.generator (scaled by `people` to the requested count),
  2. preload them into a fresh set of topics (unique prefix) and make a fresh ledger database,
  3. THEN start the worker; the clock runs from its start until the offsets it stored in PostgreSQL
     reach the topics' end offsets (the time of the last batch commit, not of the poll that saw it).
  Each committed batch is recorded (size, transaction seconds) through the consumer's metrics hook.

The batched path runs all events with the configured max_records; the naive path (the baseline) runs
a prefix of the same stream with max_records=1, one event per transaction. Publishing to
ledger.entries is NOT in the measured path: the relay builds each entry's message from the journal
(ledger.adapters.entries_relay). After the batched path the bench runs that relay over the whole
journal and prints its rate and CPU per entry apart, so the cost moved out of the worker stays in
view (and exits 1 unless it published every entry). Only the ratio between the two paths means much
on a shared machine; the absolute rates move with whatever else runs. So that a reader can tell a slow
minute from a slow change, the same worker code is also timed in process over the same stream (`caretools.bench_hotpath`,
no Kafka or PostgreSQL, in a child process) right before and right after the batched path: that
figure moves with the machine and not with the stack, and the ratio of the worker's end-to-end CPU per
event to it is what Kafka, PostgreSQL's driver and the event loop add. Figures go to stdout and to
out/bench-ledger.json.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from careruntime.processes import tune_gc
from careruntime.logging import configure_logging
from careruntime.metrics import RuntimeMetrics, committed_count
from careruntime.stackinfo import StackInfo
from careruntime.relay import OutboxRelay
from careruntime.topics import delete_topics
from ledger import native
from ledger.adapters.entries_relay import JournalSource
from ledger.bootstrap import build_worker
from ledger.config import Settings
from ledger.service.verify import verify
from prometheus_client import CollectorRegistry

from . import bench_pgstat, localstack
from .bench_cpu import StackCpu
from .generator import generate

OUT = localstack.REPO / "out"
TARGET_POSTINGS_PER_S = 20_000
# generator.generate: events ~= 15.0 per person + ~3,100 (providers and their invoices); calibrated at seed 2026
EVENTS_PER_PERSON, FIXED_EVENTS = 15.0, 3_100


class RecordingMetrics(RuntimeMetrics):
    """The worker's metrics, also keeping every committed batch: (end time, records, seconds)."""

    def __init__(self) -> None:
        super().__init__(CollectorRegistry(), namespace="ledger")
        self.batches: list[tuple[float, int, float]] = []
        self.decoded = 0  # records fetched and decoded, including those held back and fetched again

    def batch_decoded(self, batch, rejects) -> None:
        self.decoded += sum(len(records) for records in batch.values())
        super().batch_decoded(batch, rejects)

    def batch_committed(self, batch, next_offsets, dead, seconds, highwater) -> None:
        now = time.perf_counter()
        records = sum(committed_count(recs, next_offsets[tp]) for tp, recs in batch.items())
        self.batches.append((now, records, seconds))
        super().batch_committed(batch, next_offsets, dead, seconds, highwater)


@dataclass
class PathResult:
    name: str
    max_records: int
    fetch_bytes: int | None = None
    events: int = 0
    entries: int = 0
    outcomes: dict = field(default_factory=dict)
    produce_s: float = 0.0
    wall_s: float = 0.0  # worker start -> last batch committed
    startup_s: float = 0.0  # worker start -> first batch transaction begins (group join, offset load)
    busy_s: float = 0.0  # first batch transaction begins -> last batch committed
    worker_cpu_s: float = 0.0
    gc_s: float = 0.0  # of it, seconds in the garbage collector
    postgres_cpu_s: float | None = None  # the whole PostgreSQL cluster (postmaster and children)
    kafka_cpu_s: float | None = None  # the broker
    gc_mode: str = "default"
    fingerprint: dict = field(default_factory=dict)
    machine_cpu_busy: float = 0.0
    batches: list[tuple[float, int, float]] = field(default_factory=list, repr=False)
    deferrals: int = 0  # partitions the handler stopped early (held back for order, or deferred)
    decoded: int = 0  # records decoded by the consumer; more than `events` when records are held back
    unpublished: int = 0  # outbox rows and journal entries waiting for a relay when the worker stopped
    verify_ok: bool | None = None
    verify_s: float = 0.0
    pg_statements: list[dict] = field(default_factory=list)  # bench_pgstat.top, when the stack tracks them

    @property
    def events_per_s(self) -> float:
        return self.events / self.busy_s if self.busy_s else 0.0

    @property
    def entries_per_s(self) -> float:
        return self.entries / self.busy_s if self.busy_s else 0.0

    def cpu_ceilings(self, cores: int | None = None) -> dict | None:
        """The most postings/s this run's CPU per event allows, whatever the overlap and waits.

        `one_worker`: the worker process alone, busy all the time (it is one Python thread).
        `all_cores`: worker, PostgreSQL and the broker sharing every core, all busy all the time.
        Both are upper bounds: a rate near one of them is spent CPU, not waiting, and tuning that only
        removes waits cannot go past them. None when a component's CPU could not be read."""
        parts = (self.worker_cpu_s, self.postgres_cpu_s, self.kafka_cpu_s)
        if not self.events or not self.entries or any(v is None or v <= 0 for v in parts):
            return None
        cores = cores or os.cpu_count() or 1
        per_event = [1e6 * v / self.events for v in parts]
        postings_per_event = self.entries / self.events
        return {"cores": cores, "us_per_event": round(sum(per_event), 1),
                "one_worker": round(1e6 / per_event[0] * postings_per_event),
                "all_cores": round(cores * 1e6 / sum(per_event) * postings_per_event)}

    def back_to_back(self) -> float | None:
        """Postings/s if the batch transactions ran back to back: entries over the time spent in them.

        The commits are one at a time, in order, so this bounds the rate however fast the worker
        decides, at this run's cost per transaction (PostgreSQL's work and the waits inside it)."""
        in_transactions = sum(s for _, _, s in self.batches)
        return round(self.entries / in_transactions) if in_transactions and self.entries else None

    def latency_ms(self, q: float) -> float:
        return 1000 * _quantile([s for _, _, s in self.batches], q)

    def figures(self) -> dict:
        sizes = [n for _, n, _ in self.batches]
        return {
            "path": self.name, "max_records": self.max_records, "gc": self.gc_mode,
            "max_partition_fetch_bytes": self.fetch_bytes, "events": self.events, "entries": self.entries,
            "outcomes": self.outcomes, "produce_s": round(self.produce_s, 3), "wall_s": round(self.wall_s, 3),
            "startup_s": round(self.startup_s, 3), "busy_s": round(self.busy_s, 3),
            "events_per_s": round(self.events_per_s, 1), "entries_per_s": round(self.entries_per_s, 1),
            "events_per_s_from_start": round(self.events / self.wall_s, 1) if self.wall_s else 0.0,
            "entries_per_s_from_start": round(self.entries / self.wall_s, 1) if self.wall_s else 0.0,
            "batches": len(self.batches),
            "batch_records": {"mean": round(statistics.fmean(sizes), 1) if sizes else 0,
                              "p50": _quantile(sizes, 0.5), "max": max(sizes, default=0)},
            "batch_commit_ms": {"p50": round(self.latency_ms(0.5), 2), "p99": round(self.latency_ms(0.99), 2),
                                "max": round(self.latency_ms(1.0), 2)},
            "commit_share_of_busy": round(sum(s for _, _, s in self.batches) / self.busy_s, 3) if self.busy_s else 0,
            "worker_cpu_s": round(self.worker_cpu_s, 2), "gc_s": round(self.gc_s, 2),
            "postgres_cpu_s": self.postgres_cpu_s, "kafka_cpu_s": self.kafka_cpu_s,
            "cpu_us_per_event": {
                name: round(1e6 * v / self.events, 1) if v is not None and self.events else None
                for name, v in (("worker", self.worker_cpu_s), ("worker_gc", self.gc_s),
                                ("postgres", self.postgres_cpu_s), ("kafka", self.kafka_cpu_s))},
            "machine_cpu_busy": round(self.machine_cpu_busy, 3),
            "cpu_ceiling_postings_per_s": self.cpu_ceilings(),
            "transactions_back_to_back_postings_per_s": self.back_to_back(),
            "held_back_stops": self.deferrals, "records_decoded": self.decoded,
            "decoded_per_event": round(self.decoded / self.events, 2) if self.events else None,
            "unpublished_left": self.unpublished,
            "verify_ok": self.verify_ok, "verify_s": round(self.verify_s, 2),
            "fingerprint": self.fingerprint,
            "pg_statements": self.pg_statements,
        }


def _quantile(values, q: float) -> float:
    """Nearest-rank quantile (q=1.0 is the maximum)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def people_for(events: int) -> int:
    return max(1, math.ceil((events - FIXED_EVENTS) / EVENTS_PER_PERSON))


def make_events(events: int, seed: int):
    """About `events` valid messages: the generator scaled by people, topped up if it fell short."""
    people = people_for(events)
    messages = generate(people=people, seed=seed)
    while len(messages) < events * 0.995:
        people += math.ceil((events - len(messages)) / EVENTS_PER_PERSON) + 1
        messages = generate(people=people, seed=seed)
    return people, messages


@dataclass
class Prepared:
    """One path's input, preloaded: a fresh database and fresh topics holding the events."""

    name: str
    dsn: str
    topics: dict[str, str]
    targets: dict
    produce_s: float


async def prepare(info: StackInfo, name: str, messages, *, db: str, prefix: str) -> Prepared:
    dsn = await localstack.fresh_database(info, db)
    topics = await localstack.fresh_topics(info, prefix)
    produce_s = await localstack.produce(info.bootstrap, messages, topics)
    inputs = [topics["allocation.events.v1"], topics["payments.events.v1"]]
    targets = await localstack.end_offsets(info.bootstrap, inputs)
    return Prepared(name, dsn, topics, targets, produce_s)


async def delete_prepared(info: StackInfo, preps: list[Prepared], tool: str) -> None:
    """Delete the runs' topics (~130 MB of Kafka log per 200k events: do not keep them on the stack)."""
    for prep in preps:
        try:
            await delete_topics(info.bootstrap, prep.topics.values())
        except Exception as exc:  # noqa: BLE001 - clean-up only; never hide the run's own outcome
            print(f"{tool}: could not delete topics {sorted(prep.topics.values())[:1]}...: {exc!r}", file=sys.stderr)


class _GcClock:
    """Seconds spent in the garbage collector while installed (gc.callbacks), by the wall clock.

    perf_counter, not process_time: there are tens of thousands of collections in a run and a CPU-time
    read is a system call each, which would itself cost a few per cent of the worker's CPU."""

    def __init__(self) -> None:
        self.seconds, self.collections, self._t = 0.0, 0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t
            self.collections += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)




async def measure(info: StackInfo, prep: Prepared, *, max_records: int | None, timeout_s: float, check: bool,
                  profiler=None, gc_mode: str = "default", fetch_bytes: int | None = None,
                  max_held: int | None = None, pipeline: bool = True) -> PathResult:
    """Start the worker on the preloaded topics; stop it once its stored offsets reach the end offsets."""
    topics = prep.topics
    settings = Settings(
        kafka_bootstrap=info.bootstrap, database_url=prep.dsn, group_id=f"ledger-{prep.name}-{id(prep):x}",
        budget_topics=[topics["allocation.events.v1"]], other_topics=[topics["payments.events.v1"]],
        entries_topic=topics["ledger.entries.v1"], log_level="WARNING",
        **({"max_records": max_records} if max_records is not None else {}),
        **({"max_partition_fetch_bytes": fetch_bytes} if fetch_bytes is not None else {}),
        **({"max_held_records": max_held} if max_held is not None else {}))
    result = PathResult(prep.name, settings.max_records, events=sum(prep.targets.values()),
                        produce_s=prep.produce_s, fetch_bytes=getattr(settings, "max_partition_fetch_bytes", None))

    worker = await build_worker(settings)
    metrics = worker.consumer.metrics = RecordingMetrics()
    prepare = worker.ingest.prepare  # the consumer pipelines: prepare, then write in the transaction

    async def counting_prepare(pool, decoded, rejects=None):
        prepared = await prepare(pool, decoded, rejects)
        result.deferrals += len(prepared.resume or ())
        return prepared

    worker.ingest.prepare = counting_prepare if pipeline else None  # None: decide inside the transaction
    async with worker.pool.acquire() as conn:
        stack_cpu = await StackCpu.of_stack(localstack.REPO, conn)
        tracking = await bench_pgstat.reset(conn)
    gc.collect()
    thresholds = gc.get_threshold()
    if gc_mode == "tuned":  # what `python -m ledger worker` does (careruntime.processes.tune_gc)
        tune_gc()
    if profiler:
        profiler.start()
    with _GcClock() as gc_clock:
        stack_cpu.start()
        cpu0, ticks0 = time.process_time(), _cpu_ticks()
        t0 = time.perf_counter()
        task = asyncio.create_task(worker.consumer.run())
        try:
            waiter = asyncio.create_task(
                localstack.wait_consumed(prep.dsn, settings.group_id, prep.targets, timeout_s, outbox_empty=False))
            done, _ = await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
            if task in done:  # the worker died: show why
                waiter.cancel()
                task.result()
                raise RuntimeError("the ledger worker stopped before consuming everything")
            waiter.result()
        finally:
            cpu1, ticks1 = time.process_time(), _cpu_ticks()
            stack_cpu.stop()
            if profiler:
                profiler.stop()
            worker.consumer.request_stop()
            try:
                await asyncio.wait_for(task, timeout=30)
            except Exception:  # noqa: BLE001 - stopping is best effort; the figures are already taken
                task.cancel()
            await worker.pool.close()
            if gc_mode == "tuned":
                gc.set_threshold(*thresholds)
                gc.unfreeze()

    result.gc_mode = gc_mode
    result.batches = metrics.batches
    result.decoded = metrics.decoded
    last_commit = max(t for t, _, _ in metrics.batches)
    first_begin = min(t - s for t, _, s in metrics.batches)
    result.wall_s, result.startup_s, result.busy_s = last_commit - t0, first_begin - t0, last_commit - first_begin
    result.worker_cpu_s = cpu1 - cpu0
    result.gc_s = gc_clock.seconds
    result.postgres_cpu_s, result.kafka_cpu_s = stack_cpu.seconds.get("postgres"), stack_cpu.seconds.get("kafka")
    result.machine_cpu_busy = (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])

    conn = await asyncpg.connect(prep.dsn)
    try:
        if tracking:  # before the counting queries below add their own
            result.pg_statements = await bench_pgstat.top(conn, result.events)
        result.entries = await conn.fetchval("SELECT count(*) FROM journal_entries")
        result.outcomes = dict(await conn.fetch(
            "SELECT outcome, count(*) FROM processed_events GROUP BY 1 ORDER BY 1"))
        result.unpublished = await localstack.unpublished(conn)
        result.fingerprint = await fingerprint(conn)
        if check:
            started = time.perf_counter()
            report = await verify(conn)
            result.verify_s = time.perf_counter() - started
            result.verify_ok = report.ok
            for problem in report.problems[:10]:
                print(f"  verify: {problem}", file=sys.stderr)
    finally:
        await conn.close()
    return result


async def fingerprint(conn) -> dict:
    """What the run decided, independent of timing and topic names: compare it before and after a change."""
    reasons = await conn.fetch("SELECT outcome, coalesce(reason_code, '') AS reason, count(*) AS n "
                               "FROM processed_events GROUP BY 1, 2 ORDER BY 1, 2")
    lines = await conn.fetchrow("SELECT count(*) AS entries, coalesce(sum(cardinality(accounts)), 0) AS lines, "
                                "coalesce(sum(debit_pence), 0) AS debits FROM journal_entries, "
                                "LATERAL (SELECT sum(d) AS debit_pence FROM unnest(debits) AS d) AS s")
    kinds = await conn.fetch("SELECT kind, count(*) AS accounts, sum(balance_pence) AS net, "
                             "sum(abs(balance_pence)) AS gross FROM accounts GROUP BY kind ORDER BY kind")
    per_shard = await conn.fetch("SELECT regexp_replace(shard, '^[^.]*[.]', '') AS shard, shard_seq "
                                 "FROM shard_heads ORDER BY 1")
    return {
        "outcomes": {f"{r['outcome']}{'/' + r['reason'] if r['reason'] else ''}": r["n"] for r in reasons},
        "entries": lines["entries"], "lines": lines["lines"], "debits_pence": str(lines["debits"]),
        "accounts": {r["kind"]: [r["accounts"], str(r["net"]), str(r["gross"])] for r in kinds},
        "shard_seqs": {r["shard"]: r["shard_seq"] for r in per_shard},
    }


async def measure_relay(info: StackInfo, prep: Prepared) -> dict:
    """After a path: publish its journal to ledger.entries with the ledger's entries relay, timed apart."""
    pool = await asyncpg.create_pool(prep.dsn, min_size=1, max_size=2)
    relay = OutboxRelay(pool, info.bootstrap, source=JournalSource(prep.topics["ledger.entries.v1"]), listen=False)
    published = 0
    try:
        async with pool.acquire() as conn:
            stack_cpu = await StackCpu.of_stack(localstack.REPO, conn)
        stack_cpu.start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        while n := await relay.relay_once():
            published += n
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        stack_cpu.stop()
    finally:
        await relay.close()
        await pool.close()
    per = {name: round(1e6 * v / published, 1) if v is not None and published else None
           for name, v in (("relay", cpu), ("postgres", stack_cpu.seconds.get("postgres")),
                           ("kafka", stack_cpu.seconds.get("kafka")))}
    return {"entries": published, "seconds": round(wall, 2),
            "entries_per_s": round(published / wall, 1) if wall else 0.0, "cpu_us_per_entry": per}


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def _row(label: str, *cells: str) -> str:
    return f"  {label:34}" + "".join(f"{c:>18}" for c in cells)


def _statement_rows(statements: list[dict]) -> list[str]:
    """PostgreSQL's execution time by statement in the batched path (bench_pgstat), when tracked."""
    if not statements:
        return []
    return ["  PostgreSQL execution time by statement, batched path (pg_stat_statements):",
            *(f"    {st['exec_us_per_event']:6.2f} us/event {st['calls']:>7,} calls  {st['statement']}"
              for st in statements)]


def _relay_rows(relayed: dict | None) -> list[str]:
    """The rows of the relay run after the batched path (none when it was skipped)."""
    if not relayed:
        return []
    cpu = relayed["cpu_us_per_entry"]
    return [_row("entries relayed after, per s", f"{relayed['entries_per_s']:,.0f}", "-"),
            _row("  CPU us/entry: relay / PG / Kafka",
                 f"{_fmt(cpu['relay'])} / {_fmt(cpu['postgres'])} / {_fmt(cpu['kafka'])}", "-")]


def in_process_reference(people: int, seed: int) -> float | None:
    """CPU µs per event of the worker's own code in process over the same stream (`bench_hotpath`, one
    pass: ~20 s for 200,000 events), measured in a child process so that this process's heap (where the
    worker runs) does not carry its objects; None if it could not run. The same stream, because the cost
    per event grows with the book (docs/performance.md, thirteenth pass)."""
    cmd = [sys.executable, "-m", "caretools.bench_hotpath", "--people", str(people), "--seed", str(seed),
           "--repeat", "1", "--json"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
        return float(json.loads(done.stdout)["us_per_event"]["total"])
    except (subprocess.SubprocessError, OSError, ValueError, KeyError) as exc:
        print(f"bench: the in-process reference did not run: {exc!r}", file=sys.stderr)
        return None


def _reference_rows(reference: tuple[float | None, float | None], worker_us: float | None) -> list[str]:
    before, after = reference
    if before is None or after is None:
        return [_row("in-process reference, us/event", "not measured", "-")]
    rows = [_row("in-process reference, us/event", f"{before:.1f} before / {after:.1f} after", "-")]
    if worker_us:
        rows.append(_row("  worker CPU per event / reference", f"{worker_us / ((before + after) / 2):.2f}", "-"))
    return rows


def render(batched: PathResult, naive: PathResult, people: int, relayed: dict | None = None,
           reference: tuple[float | None, float | None] = (None, None)) -> str:
    b, n = batched.figures(), naive.figures()
    ratio = batched.events_per_s / naive.events_per_s if naive.events_per_s else float("nan")
    verdict = "MET" if batched.entries_per_s >= TARGET_POSTINGS_PER_S else "NOT MET"
    lines = [
        "",
        "=== Ledger ingest benchmark: Kafka input topics -> PostgreSQL journal (hash chain, exactly-once) ===",
        f"  generator: {people:,} people, preloaded before the worker starts; entries relayed after the run",
        f"  ledger decision code: {native.mode()} (ledger.native; LEDGER_PURE_PYTHON=1 runs the Python source)",
        _row("", "batched", "naive (baseline)"),
        _row("garbage collector", b["gc"], n["gc"]),
        _row("events per transaction (max)", f"{b['max_records']:,}", f"{n['max_records']:,}"),
        _row("fetch bytes per partition", *(
            f"{x['max_partition_fetch_bytes']:,}" if x["max_partition_fetch_bytes"] else "-" for x in (b, n))),
        _row("events consumed", f"{b['events']:,}", f"{n['events']:,}"),
        _row("entries posted", f"{b['entries']:,}", f"{n['entries']:,}"),
        _row("outcomes (posted/noted/rejected)", *(
            "/".join(str(x['outcomes'].get(k, 0)) for k in ("posted", "noted", "rejected")) for x in (b, n))),
        _row("worker start -> first batch, s", f"{b['startup_s']:.2f}", f"{n['startup_s']:.2f}"),
        _row("first batch -> last commit, s", f"{b['busy_s']:.2f}", f"{n['busy_s']:.2f}"),
        _row("sustained postings/s (entries)", f"{b['entries_per_s']:,.0f}", f"{n['entries_per_s']:,.0f}"),
        _row("sustained events/s", f"{b['events_per_s']:,.0f}", f"{n['events_per_s']:,.0f}"),
        _row("sustained journal lines/s", *(
            f"{x['fingerprint'].get('lines', 0) / x['busy_s']:,.0f}" if x["busy_s"] else "0" for x in (b, n))),
        _row("events/s from worker start", *(f"{x['events_per_s_from_start']:,.0f}" for x in (b, n))),
        _row("batches", f"{b['batches']:,}", f"{n['batches']:,}"),
        _row("events per batch mean / p50 / max", *(
            f"{x['batch_records']['mean']:,.0f} / {x['batch_records']['p50']:,} / {x['batch_records']['max']:,}"
            for x in (b, n))),
        _row("batch commit latency p50, ms", *(f"{x['batch_commit_ms']['p50']:.2f}" for x in (b, n))),
        _row("batch commit latency p99, ms", *(f"{x['batch_commit_ms']['p99']:.2f}" for x in (b, n))),
        _row("transactions' share of busy time", *(f"{x['commit_share_of_busy']:.0%}" for x in (b, n))),
        _row("CPU us/event: worker (of it GC)", *(
            f"{_fmt(x['cpu_us_per_event']['worker'])} ({_fmt(x['cpu_us_per_event']['worker_gc'])})" for x in (b, n))),
        _row("CPU us/event: PostgreSQL / Kafka", *(
            f"{_fmt(x['cpu_us_per_event']['postgres'])} / {_fmt(x['cpu_us_per_event']['kafka'])}" for x in (b, n))),
        _row("worker CPU / machine CPU busy", *(
            f"{x['worker_cpu_s'] / x['wall_s']:.0%} / {x['machine_cpu_busy']:.0%}" if x["wall_s"] else "-"
            for x in (b, n))),
        _row("max postings/s by CPU: worker/all", *(
            f"{c['one_worker']:,} / {c['all_cores']:,}" if (c := x["cpu_ceiling_postings_per_s"]) else "-"
            for x in (b, n))),
        _row("postings/s if commits back to back", *(
            f"{x['transactions_back_to_back_postings_per_s']:,}" if x["transactions_back_to_back_postings_per_s"] else "-"
            for x in (b, n))),
        _row("held back (stops) / decoded per event", *(
            f"{x['held_back_stops']:,} / {x['decoded_per_event'] or 0:.2f}" for x in (b, n))),
        _row("verify (chains, balances)", *(
            "skipped" if x["verify_ok"] is None else f"{'OK' if x['verify_ok'] else 'FAILED'} {x['verify_s']:.1f}s"
            for x in (b, n))),
        *_relay_rows(relayed),
        *_reference_rows(reference, b["cpu_us_per_event"]["worker"]),
        *_statement_rows(b["pg_statements"]),
        "",
        f"  batched / naive, events/s:   {ratio:,.1f}x",
        f"  target {TARGET_POSTINGS_PER_S:,} postings/s sustained: {verdict} ({b['entries_per_s']:,.0f})",
        "  (the naive path's batch latency is its per-event commit latency)",
    ]
    return "\n".join(lines)


def _environment() -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem = next((ln.split()[1] for ln in meminfo if ln.startswith("MemTotal")), "0")
    return {"nproc": os.cpu_count(), "memory_gb": round(int(mem) / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(), "ledger_code": native.mode(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


async def run(args) -> int:
    started_stack = not localstack.stack_running()
    if started_stack:
        print("starting the local stack (Kafka 4.1 KRaft + PostgreSQL) ...", flush=True)
        localstack.stack_up()
    info = StackInfo.from_env(localstack.REPO)
    run_id = time.strftime("%Y%m%d%H%M%S")
    profiler = None
    if args.profile:
        from .bench_profile import Profiler
        profiler = Profiler(Path(args.profile))
    preps: list[Prepared] = []
    try:
        t = time.perf_counter()
        people, messages = make_events(args.events, args.seed)
        print(f"generated {len(messages):,} valid events ({people:,} people, seed {args.seed}) in "
              f"{time.perf_counter() - t:.1f} s; preloading the topics ...", flush=True)
        batched_in = await prepare(info, "batched", messages, db="ledger_bench", prefix=f"bench{run_id}.")
        preps.append(batched_in)
        if not args.skip_baseline:
            # a prefix of a time-ordered stream is a valid stream
            naive_in = await prepare(info, "naive", messages[:args.baseline_events], db="ledger_bench_naive",
                                     prefix=f"bench{run_id}n.")
            preps.append(naive_in)
        print(f"  produced {len(messages):,} events in {batched_in.produce_s:.1f} s (not measured)", flush=True)
        del messages  # the worker runs in this process: its heap (and GC) must not carry the generator's
        naive = None
        if not args.skip_baseline:
            print(f"naive path: {sum(naive_in.targets.values()):,} events, one transaction each ...", flush=True)
            naive = await measure(info, naive_in, max_records=1, timeout_s=args.timeout, check=not args.no_verify,
                                  gc_mode=args.gc)
            print(f"  {naive.events_per_s:,.0f} events/s, p50 {naive.latency_ms(0.5):.2f} ms", flush=True)
        reference_before = in_process_reference(people, args.seed)
        print(f"batched path: {sum(batched_in.targets.values()):,} events ...", flush=True)
        batched = await measure(info, batched_in, max_records=args.max_records, timeout_s=args.timeout,
                                check=not args.no_verify, profiler=profiler, gc_mode=args.gc,
                                fetch_bytes=args.fetch_bytes, max_held=args.max_held,
                                pipeline=not args.no_pipeline)
        print(f"  {batched.entries_per_s:,.0f} postings/s, p50 {batched.latency_ms(0.5):.0f} ms", flush=True)
        reference = (reference_before, in_process_reference(people, args.seed))
        relayed = None
        if not args.skip_relay:
            print("relaying the journal's entries to ledger.entries (not in the measured path) ...", flush=True)
            relayed = await measure_relay(info, batched_in)
            print(f"  {relayed['entries']:,} entries in {relayed['seconds']:.1f} s", flush=True)
        if naive is None:
            naive = PathResult("naive (skipped)", 1)
        print(render(batched, naive, people, relayed, reference))
        report = {"environment": _environment(), "people": people, "seed": args.seed,
                  "target_postings_per_s": TARGET_POSTINGS_PER_S,
                  "batched": batched.figures(), "naive": naive.figures(),
                  "ratio_events_per_s": (round(batched.events_per_s / naive.events_per_s, 2)
                                         if naive.events_per_s else None),
                  "relay": relayed or "skipped (--skip-relay)",
                  "in_process_reference_us_per_event": {"people": people, "before": reference[0],
                                                        "after": reference[1]}}
        if profiler:
            from .bench_profile import render as render_profile
            from .bench_profile import summarise
            report["profile"] = summarise(Path(args.profile))
            print("\n" + render_profile(report["profile"]))
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nfigures written to {out}")
        ok = all(x.verify_ok is not False for x in (batched, naive))
        if relayed is not None and relayed["entries"] != batched.entries:
            print(f"\nbench: the relay published {relayed['entries']:,} entries of {batched.entries:,}", file=sys.stderr)
            ok = False
        return 0 if ok else 1
    except TimeoutError as exc:
        print(f"\nbench: the ledger did not consume its input in time (--timeout {args.timeout:.0f} s): {exc}",
              file=sys.stderr)
        return 2
    finally:
        await delete_prepared(info, preps, "bench")
        if started_stack:
            localstack.stack_down()
            print("local stack stopped")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    configure_logging("ledger-bench", "WARNING")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # leader elections of fresh topics are noisy
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events of the batched path")
    parser.add_argument("--baseline-events", type=int, default=4_000, help="events of the naive path")
    parser.add_argument("--max-records", type=int, default=None, help="batched path (default: Settings)")
    parser.add_argument("--fetch-bytes", type=int, default=None,
                        help="max_partition_fetch_bytes of the batched path (default: Settings)")
    parser.add_argument("--max-held", type=int, default=None,
                        help="max_held_records of the batched path (default: Settings)")
    parser.add_argument("--no-pipeline", action="store_true",
                        help="batched path decides each batch inside its transaction (no overlap)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-relay", action="store_true", help="do not relay the journal after the batched path")
    parser.add_argument("--no-verify", action="store_true", help="skip `ledger verify` after each path")
    parser.add_argument("--profile", metavar="PATH", help="py-spy collapsed stacks of the batched path")
    parser.add_argument("--gc", choices=["default", "tuned"], default="tuned",
                        help="tuned (default): gc.freeze() and raised thresholds, as `python -m ledger worker` runs; default: CPython's own")
    parser.add_argument("--json", default=str(OUT / "bench-ledger.json"))
    args = parser.parse_args()
    import uvloop  # the worker's own event loop (python -m ledger worker)
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
