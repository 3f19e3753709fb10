"""`make bench` (payments): a payment run of 100,000 due direct payments, from run creation to the bank
file, with every payment reserved in the ledger; and, in the same run, a baseline.

Set-up (not measured): fresh payments and ledger databases and topics; 100,000 budgets with a 4-weekly
DP schedule seeded into the payments read model (COPY), the same budgets agreed in the ledger (events
on allocation.events.v1, consumed before the clock starts), a bank directory with every payee.
`python -m payments worker|relay` and `python -m ledger worker` run as child processes, as deployed.

Measured: CreatePaymentRun (every schedule's first period due) -> the run committed (periods made due,
100,000 PaymentInstructed in the outbox) -> ApprovePaymentRun (another person) -> GeneratePaymentFile
(Bacs Standard 18) written with its sha256, AND the ledger has reserved all 100,000 (posted). The clock
stops when both are true. Target: under 20 s.

Baseline: the same run creation, one payment per transaction through the generic event path (what a
per-payment handler would do), on a sample (--baseline, default 5,000) in this process; its rate is
compared with the batched run creation's. Figures go to stdout and out/bench-payments.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
from careruntime import outbox
from careruntime.stackinfo import StackInfo
from careschemas.payments_commands import ApprovePaymentRun, CreatePaymentRun, GeneratePaymentFile
from careschemas.payments_events import PaymentInstructed
from careschemas.registry import make_envelope
from payments.adapters import commands_out
from payments.adapters.wire import Emitter
from payments.service.timer import make_due

from . import localstack
from .bank_sim import directory_csv
from .messages import message
from .payments_env import payments_env

COUNCIL = "E10000099"
D0 = date(2026, 4, 6)
END = date(2027, 4, 4)


async def seed(dsn: str, n: int) -> None:
    """n budgets with a gross 4-weekly DP schedule each, straight into the payments read model."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("budgets", columns=(
            "council_id", "budget_id", "person_ref", "start_date", "end_date", "dp_account_ref"),
            records=[(COUNCIL, f"PB-{i:06d}", f"P-{i:06d}", D0, END, f"tok-{i:06d}") for i in range(n)])
        await conn.copy_records_to_table("schedules", columns=(
            "council_id", "schedule_id", "budget_id", "amount_pence", "frequency_weeks", "first_due_date", "end_date",
            "contribution_mode", "status"),
            records=[(COUNCIL, f"S-{i:06d}", f"PB-{i:06d}", 100_000 + i % 1000, 4, D0, END, "gross", "active")
                     for i in range(n)])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def wait_for(dsn: str, sql: str, until, timeout_s: float, procs=()) -> float:
    """Poll `sql` until `until(value)`; returns the monotonic time it became true."""
    conn = await asyncpg.connect(dsn)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if until(await conn.fetchval(sql)):
                return time.monotonic()
            dead = [p.log_path for p in procs if not p.alive()]
            if dead:
                raise RuntimeError(f"a service stopped; see {dead}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not done after {timeout_s:.0f} s: {sql}")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def baseline(dsn: str, n: int) -> float:
    """Seconds to instruct n payments one transaction each, through the generic event path."""
    conn = await asyncpg.connect(dsn)
    try:
        await make_due(conn, COUNCIL, D0)
        rows = await conn.fetch("SELECT payment_id, budget_id, due_pence, due_date FROM payments ORDER BY payment_id")
        cause = make_envelope(CreatePaymentRun(run_id="RUN-B", created_by="bench", due_on=D0, effective_date=D0),
                              id="c-baseline", source="urn:bench", subject="RUN-B", council_id=COUNCIL,
                              correlation_id="c-baseline", time=datetime.now(UTC))
        started = time.perf_counter()
        for r in rows:
            emit = Emitter("payments.events.v1", cause)
            async with conn.transaction():
                await conn.execute("UPDATE payments SET status = 'instructed', paid_pence = due_pence, run_id = 'RUN-B' "
                                   "WHERE council_id = $1 AND payment_id = $2", COUNCIL, r["payment_id"])
                emit.event(PaymentInstructed(payment_id=r["payment_id"], run_id="RUN-B", kind="direct_payment",
                                             budget_id=r["budget_id"], amount_pence=r["due_pence"],
                                             due_date=r["due_date"], effective_date=D0))
                await outbox.append(conn, emit.rows)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def run_bench(payments: int, sample: int, timeout_s: float, part_size: int | None = None,
                    ledger_workers: int = 1) -> dict:
    started_stack = not localstack.stack_running()
    if started_stack:
        print("starting the local stack (Kafka 4.1 KRaft + PostgreSQL) ...", flush=True)
        localstack.stack_up()
    info = StackInfo.from_env(localstack.REPO)
    tag = uuid.uuid4().hex[:8]
    out = localstack.REPO / "out"
    bench_dir = out / f"bench-payments-{tag}"
    bench_dir.mkdir(parents=True, exist_ok=True)
    procs: list[localstack.ServiceProcess] = []
    topics: dict[str, str] = {}
    try:
        pay_dsn = await localstack.fresh_database(info, f"bench_payments_{tag}", service="payments")
        base_dsn = await localstack.fresh_database(info, f"bench_payments_base_{tag}", service="payments")
        ledger_dsn = await localstack.fresh_database(info, f"bench_ledger_{tag}")
        topics = await localstack.fresh_topics(info, f"benchpay{tag}.")
        t = time.perf_counter()
        await seed(pay_dsn, payments)
        await seed(base_dsn, sample)
        (bench_dir / "directory.csv").write_text(directory_csv([f"tok-{i:06d}" for i in range(payments)]))
        agreed = [message("allocation.PersonalBudgetAgreed.v1", f"agree-{i:06d}", COUNCIL,
                          datetime(2026, 4, 1, 9, tzinfo=UTC), budget_id=f"PB-{i:06d}", person_ref=f"P-{i:06d}",
                          amount_pence=5_000_000, start_date=D0, end_date=END, effective_date=D0)
                  for i in range(payments)]
        await localstack.produce(info.bootstrap, agreed, topics)
        group = f"payments-bench-{tag}"
        env = payments_env(info, pay_dsn, topics, group, localstack.free_port_pair(), out_dir=bench_dir,
                           bank_directory=bench_dir / "directory.csv",
                           **({"run_part_size": part_size} if part_size else {}))
        ledger_env = localstack.ledger_env(info, ledger_dsn, topics, f"ledger-bench-{tag}",
                                           health_port=localstack.free_port_pair())
        ledgers = [("ledger", "worker", {**ledger_env, "LEDGER_HEALTH_PORT": str(localstack.free_port_pair())})
                   for _ in range(ledger_workers)]  # one consumer group: the input partitions are shared out
        for n, (service, command, e) in enumerate([*ledgers, ("payments", "worker", env), ("payments", "relay", env)]):
            procs.append(localstack.ServiceProcess(command, e, bench_dir / f"{service}-{command}-{n}.log",
                                                   service=service))
            procs[-1].start()
        await wait_for(ledger_dsn, "SELECT count(*) FROM processed_events", lambda v: v >= payments, timeout_s, procs)
        print(f"set-up: {payments:,} budgets seeded and agreed in the ledger in {time.perf_counter() - t:.1f} s "
              "(not measured)", flush=True)

        def send(cmd, cid):
            return commands_out.send(info.bootstrap, topics["payments.commands.v1"],
                                     [commands_out.envelope_bytes(cmd, cid, COUNCIL)])

        t0 = time.monotonic()
        await send(CreatePaymentRun(run_id="RUN-1", created_by="a.patel", due_on=D0, effective_date=D0), "b-create")
        t_created = await wait_for(pay_dsn, "SELECT status FROM runs WHERE run_id = 'RUN-1'",
                                   lambda v: v == "created", timeout_s, procs)
        await send(ApprovePaymentRun(run_id="RUN-1", approved_by="r.jones", effective_date=D0), "b-approve")
        await send(GeneratePaymentFile(run_id="RUN-1", file_format="bacs18", effective_date=D0), "b-file")
        t_file = await wait_for(pay_dsn, "SELECT sha256 FROM run_files WHERE run_id = 'RUN-1'", lambda v: v is not None,
                                timeout_s, procs)
        t_published = await wait_for(pay_dsn, "SELECT count(*) FROM outbox", lambda v: v == 0, timeout_s, procs)
        t_reserved = await wait_for(
            ledger_dsn, "SELECT count(*) FROM processed_events WHERE event_type = 'payments.PaymentInstructed.v1' "
            "AND outcome = 'posted'", lambda v: v >= payments, timeout_s, procs)
        conn = await asyncpg.connect(pay_dsn)
        try:
            run = dict(await conn.fetchrow("SELECT payment_count, total_pence, parts FROM runs WHERE run_id = 'RUN-1'"))
            file = dict(await conn.fetchrow("SELECT file_name, sha256 FROM run_files WHERE run_id = 'RUN-1'"))
        finally:
            await conn.close()
        conn = await asyncpg.connect(ledger_dsn)
        try:
            rejected = await conn.fetchval("SELECT count(*) FROM processed_events WHERE outcome = 'rejected'")
            pending = int(await conn.fetchval("SELECT sum(balance_pence) FROM accounts WHERE kind = 'pending'"))
        finally:
            await conn.close()
        total_s = max(t_file, t_reserved) - t0
        print(f"baseline: {sample:,} payments, one transaction each ...", flush=True)
        base_s = await baseline(base_dsn, sample)
        created_s = t_created - t0
        report = {
            "payments": payments, "run": run, "file": file,  # the file itself is removed with the run's folder
            "seconds": {"run_created": round(created_s, 2), "file_written": round(t_file - t0, 2),
                        "outbox_published": round(t_published - t0, 2), "ledger_reserved": round(t_reserved - t0, 2),
                        "total": round(total_s, 2)},
            "target_s": 20, "met": total_s < 20, "ledger_workers": ledger_workers,
            "ledger": {"rejected": rejected, "pending_pence": pending},
            "load_average_1m": os.getloadavg()[0],
        "baseline": {"payments": sample, "seconds": round(base_s, 2),
                         "payments_per_s": round(sample / base_s), "batched_run_creation_per_s":
                         round(payments / created_s), "speedup": round((payments / created_s) / (sample / base_s), 1)},
        }
        return report
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(bench_dir, ignore_errors=True)  # a 100,000-payment file and directory per run
        await _drop_databases(info, [f"bench_payments_{tag}", f"bench_payments_base_{tag}", f"bench_ledger_{tag}"])
        if topics:
            try:
                from careruntime.topics import delete_topics
                await delete_topics(info.bootstrap, list(topics.values()))
            except Exception as exc:  # best effort
                print(f"bench: could not delete topics: {exc!r}", file=sys.stderr)
        if started_stack:
            localstack.stack_down()


async def _drop_databases(info: StackInfo, names: list[str]) -> None:
    try:
        admin = await asyncpg.connect(info.dsn("postgres"))
    except (OSError, asyncpg.PostgresError):
        return
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def render(r: dict) -> str:
    s, b = r["seconds"], r["baseline"]
    return "\n".join([
        f"payment run of {r['payments']:,} due payments ({r['run']['total_pence'] / 100:,.2f} GBP), run creation to file:",
        f"  run created ({r['run']['parts']} parts; periods due, instructions in the outbox) {s['run_created']:6.2f} s",
        f"  approved and Bacs18 file written ({r['file']['sha256'][:12]}...)        {s['file_written']:6.2f} s",
        f"  every instruction published to Kafka                          {s['outbox_published']:6.2f} s",
        f"  every payment reserved in the ledger ({r['ledger_workers']} worker(s))              {s['ledger_reserved']:6.2f} s",
        f"  TOTAL (file written and all reserved)                         {s['total']:6.2f} s   "
        f"target < {r['target_s']} s: {'met' if r['met'] else 'NOT met'}",
        f"  ledger: {r['ledger']['rejected']} rejected, pending {r['ledger']['pending_pence']:,} pence",
        f"baseline (one payment per transaction, generic path, {b['payments']:,} payments): {b['payments_per_s']:,}/s; "
        f"batched run creation {b['batched_run_creation_per_s']:,}/s = {b['speedup']}x",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=5_000, help="payments of the one-per-transaction baseline")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--part-size", type=int, default=None, help="PAYMENTS_RUN_PART_SIZE (default: Settings)")
    parser.add_argument("--ledger-workers", type=int, default=1, help="ledger workers in one consumer group")
    args = parser.parse_args()
    report = asyncio.run(run_bench(args.payments, args.baseline, args.timeout, args.part_size, args.ledger_workers))
    print(render(report))
    out = localstack.REPO / "out" / "bench-payments.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
