"""One payments cycle through the payments service: a DP run and an invoice run, bank files written to
out/, a bank statement imported, every payment settled or returned in the ledger. Also the payments
processes (`PaymentsDemo`) that `make demo`'s year of cycles (demo_payments_year) runs on.

`payments_stage(...)` runs on budgets, providers and orders already on allocation.events.v1. It starts
`python -m payments worker|relay`, waits for the payments read model to catch up, then, as a council's
staff would:
1. schedules a 4-weekly direct payment for budgets with a DP route (from the read model);
2. takes in one week's invoice from the provider of each of some service orders (one deliberately
   over plan, one a suspected duplicate: both held with their reasons);
3. `python -m payments run create|approve|export` (the council CLI, as child processes): a DP run
   (Bacs Standard 18) and, after the matched invoices are approved, an invoice run (pain.001);
4. makes the bank's camt.053 statement for both runs (most settled, some returned, one line that is
   not ours) and imports it with `python -m payments statement import`;
and returns a summary dict. `python -m caretools.demo_payments` runs it on its own (fresh databases and
topics, the demo generator's allocation events, the ledger as child processes) and prints the summary.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
from careruntime.stackinfo import StackInfo
from careschemas import invoice_commands as icmd
from careschemas import payments_commands as pcmd
from payments.adapters import commands_out

from . import localstack
from .bank_sim import camt053, directory_csv
from .payments_env import payments_env

IBAN = "GB33BUKB20201555555555"  # the council's paying account (payments.config default originator)


class PaymentsDemo:
    """The payments processes and the settings the CLI children need."""

    def __init__(self, info: StackInfo, topics: dict[str, str], dsn: str, council: str, out_dir: Path,
                 log_dir: Path, group: str, timeout_s: float) -> None:
        self.info, self.topics, self.dsn, self.council = info, topics, dsn, council
        self.out_dir, self.log_dir, self.group, self.timeout_s = out_dir, log_dir, group, timeout_s
        self.directory = out_dir / f"bank-directory-{group}.csv"
        self.env = payments_env(info, dsn, topics, group, localstack.free_port_pair(), out_dir=out_dir,
                                bank_directory=self.directory)
        self.procs = [localstack.ServiceProcess(c, self.env, log_dir / f"payments-{c}.log", service="payments")
                      for c in ("worker", "relay")]

    def start(self) -> None:
        for proc in self.procs:
            proc.start()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    async def settled(self) -> float:
        dead = [p.log_path for p in self.procs if not p.alive()]
        if dead:
            raise RuntimeError(f"payments stopped unexpectedly: see {dead}")
        targets = await localstack.record_ends(self.info.bootstrap, [self.topics["allocation.events.v1"],
                                                                     self.topics["payments.commands.v1"]])
        return await localstack.wait_consumed(self.dsn, self.group, targets, self.timeout_s)

    async def send(self, commands: list[tuple[str, object]]) -> None:
        at = datetime.now(UTC)
        await commands_out.send(self.info.bootstrap, self.topics["payments.commands.v1"],
                                [commands_out.envelope_bytes(c, cid, self.council, at=at) for cid, c in commands])
        await self.settled()

    def cli(self, *args: str) -> dict:
        """`python -m payments ARGS --council C`; its JSON answer (progress bars go to the log)."""
        with open(self.log_dir / "payments-cli.log", "ab") as log:
            done = subprocess.run([sys.executable, "-m", "payments", *args, "--council", self.council],
                                  env={**os.environ, **self.env}, stdout=subprocess.PIPE, stderr=log,
                                  timeout=self.timeout_s)
        answer = orjson.loads(done.stdout) if done.stdout.strip() else {}
        answer["exit_code"] = done.returncode
        return answer


async def _read_model(dsn: str, council: str) -> tuple[list, list, list]:
    conn = await asyncpg.connect(dsn)
    try:
        budgets = await conn.fetch(
            """SELECT budget_id, person_ref, start_date, end_date, dp_route_pence, coalesce(dp_account_ref, person_ref) AS ref
               FROM budgets WHERE council_id = $1 AND died_on IS NULL AND ended_on IS NULL ORDER BY budget_id""", council)
        orders = await conn.fetch(
            """SELECT o.order_id, o.budget_id, o.provider_id, o.rate_pence, o.planned_units_per_week, o.start_date,
                      o.end_date FROM service_orders o JOIN providers p USING (council_id, provider_id)
               WHERE o.council_id = $1 AND o.end_date >= o.start_date + 6 ORDER BY o.order_id""", council)
        providers = await conn.fetch("SELECT provider_id, coalesce(account_ref, provider_id) AS ref FROM providers "
                                     "WHERE council_id = $1", council)
    finally:
        await conn.close()
    return budgets, orders, providers


async def payments_stage(info: StackInfo, *, topics: dict[str, str], payments_dsn: str, council: str,
                         out_dir: Path, log_dir: Path, timeout_s: float = 600.0, group: str | None = None,
                         dp_budgets: int = 200, invoices: int = 100, return_every: int = 25) -> dict:
    """Run the payments stage (see the module docstring); the summary dict of what happened."""
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = PaymentsDemo(info, topics, payments_dsn, council, out_dir, log_dir,
                        group or f"payments-demo-{int(time.time())}", timeout_s)
    demo.start()
    try:
        await demo.settled()  # the read model holds every budget, provider and order published so far
        budgets, orders, providers = await _read_model(payments_dsn, council)
        demo.directory.write_text(directory_csv([b["ref"] for b in budgets] + [p["ref"] for p in providers]))
        dp = [b for b in budgets if b["dp_route_pence"]][:dp_budgets]
        await demo.send([(f"demo-sched-{b['budget_id']}", pcmd.ScheduleDirectPayment(
            schedule_id=f"DEMO-S-{b['budget_id']}", budget_id=b["budget_id"],
            amount_pence=max(1, b["dp_route_pence"] * 4 // 52), first_due_date=b["start_date"], end_date=b["end_date"],
            contribution_mode="netted", effective_date=b["start_date"])) for b in dp])
        picked = sorted(orders, key=lambda o: (o["start_date"], o["order_id"]))[:invoices]
        # Both runs pay what is due by one date: the DP run takes every DP period due by then, so the
        # invoice run (after the invoices are approved) holds only invoices.
        due_on = max([b["start_date"] + timedelta(weeks=4) for b in dp] +
                     [o["start_date"] + timedelta(days=7) for o in picked] or [date(2026, 5, 1)])
        received = []
        for n, o in enumerate(picked):
            start = o["start_date"]
            units = o["planned_units_per_week"] + (5 if n == 1 else 0)  # the second one: over plan
            received.append((f"demo-inv-{o['order_id']}", icmd.ReceiveInvoice(
                invoice_id=f"DEMO-I-{o['order_id']}", provider_id=o["provider_id"], invoice_number=f"INV-{n + 1:05d}",
                invoice_date=start + timedelta(days=7), lines=[{
                    "line_no": 1, "order_id": o["order_id"], "budget_id": o["budget_id"], "period_start": start,
                    "period_end": start + timedelta(days=6), "units": units, "rate_pence": o["rate_pence"]}],
                effective_date=start + timedelta(days=7))))
        if picked:  # the provider resends the first invoice under another number: a suspected duplicate
            first = received[0][1]
            received.append(("demo-inv-dup", first.model_copy(update={
                "invoice_id": "DEMO-I-DUP", "invoice_number": f"inv {first.invoice_number.split('-')[1]}/"})))
        await demo.send(received)

        dp_run = {"create": demo.cli("run", "create", "DEMO-DP-RUN", "--by", "a.patel@council.example",
                                     "--due-on", due_on.isoformat(), "--effective-date", due_on.isoformat()),
                  "self_approval": demo.cli("run", "approve", "DEMO-DP-RUN", "--by", "a.patel@council.example"),
                  "approve": demo.cli("run", "approve", "DEMO-DP-RUN", "--by", "r.jones@council.example"),
                  "export": demo.cli("run", "export", "DEMO-DP-RUN", "--format", "bacs18")}

        conn = await asyncpg.connect(payments_dsn)
        try:
            matched = await conn.fetch("SELECT invoice_id, provider_id, invoice_date FROM invoices WHERE council_id = $1 "
                                       "AND status = 'matched' ORDER BY invoice_id", council)
            holds = dict(await conn.fetch("SELECT hold_reason, count(*) FROM invoices WHERE council_id = $1 "
                                          "AND status = 'held' GROUP BY 1", council))
        finally:
            await conn.close()
        await demo.send([(f"demo-approve-{m['invoice_id']}", icmd.ApproveInvoice(
            invoice_id=m["invoice_id"], provider_id=m["provider_id"], approved_by="finance.officer@council.example",
            effective_date=m["invoice_date"])) for m in matched])
        invoice_run = {"create": demo.cli("run", "create", "DEMO-INV-RUN", "--by", "a.patel@council.example",
                                          "--due-on", due_on.isoformat(), "--effective-date", due_on.isoformat()),
                       "approve": demo.cli("run", "approve", "DEMO-INV-RUN", "--by", "r.jones@council.example"),
                       "export": demo.cli("run", "export", "DEMO-INV-RUN", "--format", "pain001")}

        statement = await _statement(payments_dsn, council, out_dir, return_every)
        imported = demo.cli("statement", "import", str(statement))
        await demo.settled()
        summary = await _summary(payments_dsn, council)
        summary.update({
            "dp_run": dp_run, "invoice_run": invoice_run, "statement": {"file": str(statement), **imported},
            "invoices_held": holds, "schedules_sent": len(dp), "invoices_sent": len(received),
        })
        return summary
    finally:
        demo.stop()


async def _statement(dsn: str, council: str, out_dir: Path, return_every: int) -> Path:
    """The bank's camt.053 for every instructed payment: most settled, every `return_every`th returned
    (AC04 account closed), plus a debit that is not the council's."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT end_to_end_id, paid_pence FROM payments WHERE council_id = $1 "
                                "AND status = 'instructed' ORDER BY payment_id", council)
    finally:
        await conn.close()
    settled = [(r["end_to_end_id"], r["paid_pence"]) for n, r in enumerate(rows) if (n + 1) % return_every]
    returned = [(r["end_to_end_id"], r["paid_pence"], "AC04") for n, r in enumerate(rows) if not (n + 1) % return_every]
    path = out_dir / f"statement-{council}-{date.today():%Y%m%d}.camt053.xml"
    path.write_bytes(camt053(f"STMT-{council}-{int(time.time())}", IBAN, date.today(), settled, returned,
                             foreign=[("E-NOT-OURS-1", 12_345)]))
    return path


async def _summary(dsn: str, council: str) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        by_status = {f"{r['kind']}/{r['status']}": {"count": r["n"], "pence": r["pence"]} for r in await conn.fetch(
            "SELECT kind, status, count(*) AS n, sum(coalesce(paid_pence, due_pence)) AS pence FROM payments "
            "WHERE council_id = $1 GROUP BY 1, 2 ORDER BY 1, 2", council)}
        runs = [dict(r) for r in await conn.fetch(
            "SELECT r.run_id, r.created_by, r.approved_by, r.payment_count, r.total_pence, f.file_format, f.file_name, "
            "f.sha256 FROM runs r LEFT JOIN run_files f USING (council_id, run_id) WHERE council_id = $1 ORDER BY 1",
            council)]
        invoices = dict(await conn.fetch("SELECT status, count(*) FROM invoices WHERE council_id = $1 GROUP BY 1",
                                         council))
        refused = dict(await conn.fetch("SELECT reason_code, count(*) FROM processed_messages WHERE council_id = $1 "
                                        "AND outcome = 'rejected' GROUP BY 1", council))
    finally:
        await conn.close()
    return {"payments": by_status, "runs": runs, "invoices": invoices, "commands_refused": refused}


async def standalone(people: int, timeout_s: float) -> dict:
    """The stage on its own: allocation events from the demo generator, the ledger as child processes."""
    from .generator import generate
    from .summary import collect

    council = "E10000099"
    started_stack = not localstack.stack_running()
    if started_stack:
        localstack.stack_up()
    info = StackInfo.from_env(localstack.REPO)
    tag = time.strftime("%Y%m%d%H%M%S")
    out = localstack.REPO / "out"
    logs = out / "logs"
    procs = []
    try:
        pay_dsn = await localstack.fresh_database(info, "payments_demo", service="payments")
        ledger_dsn = await localstack.fresh_database(info, "ledger_payments_demo")
        topics = await localstack.fresh_topics(info, f"paydemo{tag}.")
        allocation = [m for m in generate(people=people, council_id=council, allocation="events")
                      if m.topic == "allocation.events.v1"]
        await localstack.produce(info.bootstrap, allocation, topics)
        env = localstack.ledger_env(info, ledger_dsn, topics, f"ledger-paydemo-{tag}",
                                    health_port=localstack.free_port_pair())
        for command in ("worker", "relay"):
            procs.append(localstack.ServiceProcess(command, env, logs / f"ledger-{command}.log", service="ledger"))
            procs[-1].start()
        summary = await payments_stage(info, topics=topics, payments_dsn=pay_dsn, council=council, out_dir=out,
                                       log_dir=logs, timeout_s=timeout_s, group=f"payments-paydemo-{tag}")
        targets = await localstack.record_ends(info.bootstrap, [topics["allocation.events.v1"],
                                                                topics["payments.events.v1"]])
        await localstack.wait_consumed(ledger_dsn, f"ledger-paydemo-{tag}", targets, timeout_s)
        ledger = await collect(ledger_dsn, info.bootstrap, topics)
        conn = await asyncpg.connect(ledger_dsn)
        try:
            summary["ledger"] = {
                "verify_ok": ledger["verify"]["ok"],
                "rejected": dict(await conn.fetch("SELECT reason_code, count(*) FROM processed_events WHERE outcome = "
                                                  "'rejected' AND event_type LIKE 'payments.%' OR outcome = 'rejected' "
                                                  "AND event_type LIKE 'invoices.%' GROUP BY 1")),
                "balances": dict(await conn.fetch("SELECT kind, sum(balance_pence) FROM accounts GROUP BY 1 ORDER BY 1")),
            }
        finally:
            await conn.close()
        return summary
    finally:
        for proc in reversed(procs):
            proc.stop()
        if started_stack:
            localstack.stack_down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    summary = asyncio.run(standalone(args.people, args.timeout))
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    (localstack.REPO / "out" / "demo-payments-summary.json").write_text(text + "\n")
    return 0 if summary["ledger"]["verify_ok"] and summary["ledger"]["balances"].get("pending", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
