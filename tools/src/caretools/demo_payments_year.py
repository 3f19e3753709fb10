"""The payments part of `make demo` for the whole year: the generator's direct-payment schedules and
provider invoices go to the payments service as commands, and every four weeks the council runs a DP
run and an invoice run through the payments CLI, exports the bank files and imports the bank's statement.

The generator's year says what happens (which budgets get direct payments and for how much, which
provider invoices what, when); this module turns that into what a council's staff and a provider portal
send the payments service, so every payments event the ledger posts is caused by the service:
- `ScheduleDirectPayment` for each DP schedule of the year (gross: the service nets the contribution);
- cycle k on C_k = 1 April + 28k - 1 day (fifteen cycles, the last after the year's end for the
  last invoices), in order:
  1. `ReceiveInvoice` for every invoice the generator dated on or before C_k (one per provider per
     four-week period, a line per order; four weeks in arrears), then
  2. (with `decisions`) the case system's mid-year decisions known by C_k (revisions, variations,
     ends, deaths) go to the allocation service, after the invoices for the weeks before them are
     matched, and before the DP run pays the coming weeks;
  3. the DP run (`run create` due on C_k + 28 days: every DP period starting before the next cycle,
     paid in advance), and, once it is made,
  4. `ApproveInvoice` for the invoices that matched, and the invoice run (everything approved);
  5. each run approved by someone other than its creator (the creator tries first in cycle 0 and is
     refused) and exported: Bacs Standard 18 for the DP run, pain.001 for the invoice run;
  6. the bank's camt.053 for both runs (three days later; every `return_every`-th payment returned
     AC04, plus a line that is not the council's) imported with `statement import`.
The CLI's own functions (payments.entrypoints.cli) run in this process, so 15 cycles of CLI calls do
not pay a Python start-up each; their JSON answers are kept, their progress bars go to the CLI log.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import orjson
from careschemas import invoice_commands as icmd
from careschemas import payments_commands as pcmd
from payments.__main__ import _parser as payments_cli_parser
from payments.config import Settings
from payments.entrypoints import cli as payments_cli

from .bank_sim import camt053, directory_csv
from .demo_payments import IBAN, PaymentsDemo, _read_model
from .generator import YEAR_START
from .messages import Message

CYCLES = 15
Decisions = Callable[[date], Awaitable[None]]
CREATOR, APPROVER, FINANCE = "a.patel@council.example", "r.jones@council.example", "finance.officer@council.example"


@dataclass
class CycleLog:
    """What one four-weekly cycle did (for the summary)."""

    day: date
    invoices_received: int = 0
    invoices_approved: int = 0
    runs: dict[str, dict] = field(default_factory=dict)  # run id -> the CLI's answers
    statement: dict = field(default_factory=dict)


def _data(m: Message) -> dict:
    return orjson.loads(m.value)["data"]


def year_commands(valid: list[Message]) -> tuple[list, list]:
    """From the generator's year: the DP schedules as commands, and the invoices as (invoice date,
    approval date, command id, ReceiveInvoice) in date order."""
    routes = {d["budget_id"]: d["amount_pence"] for d in map(_data, (m for m in valid if b"AllocateDeliveryRoute" in m.value))}
    schedules = []
    for m in valid:
        if b"payments.DirectPaymentScheduled" in m.value:
            d = _data(m)
            gross = routes[d["budget_id"]] * d["frequency_weeks"] // 52
            schedules.append((f"sched-{d['schedule_id']}", pcmd.ScheduleDirectPayment(
                schedule_id=d["schedule_id"], budget_id=d["budget_id"], amount_pence=gross,
                frequency_weeks=d["frequency_weeks"], first_due_date=d["first_due_date"], end_date=d["end_date"],
                contribution_mode=d["contribution_mode"], effective_date=d["effective_date"])))
    invoices = []
    for m in valid:
        if b"invoices.InvoiceReceived" in m.value:
            d = _data(m)
            receive = icmd.ReceiveInvoice.model_validate({k: d[k] for k in icmd.ReceiveInvoice.model_fields})
            invoices.append((receive.invoice_date, f"recv-{receive.invoice_id}", receive))
    return schedules, invoices


class CouncilDesk:
    """The council's side of the payments service: commands (as a portal sends them) and the CLI
    functions called in-process with the service's settings."""

    def __init__(self, demo: PaymentsDemo) -> None:
        self.demo = demo
        self.settings = Settings(**{k.removeprefix("PAYMENTS_").lower(): v for k, v in demo.env.items()})
        self.cli_log = demo.log_dir / "payments-cli.log"

    async def cli(self, *args: str) -> dict:
        """`python -m payments ARGS --council C` without a new process: the same parser and handler."""
        ns = payments_cli_parser().parse_args([*args, "--council", self.demo.council,
                                               "--timeout", str(self.demo.timeout_s)])
        handler = payments_cli.run_command if ns.command == "run" else payments_cli.statement_import
        out, bars = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(bars):
            code = await handler(self.settings, ns)
        await asyncio.to_thread(_append, self.cli_log, bars.getvalue())
        answer = orjson.loads(out.getvalue()) if out.getvalue().strip() else {}
        answer["exit_code"] = code
        return answer

    async def run(self, run_id: str, day: date, due_on: date, file_format: str, self_approve: bool) -> dict:
        """Create, (try to self-approve,) approve and export one run; {} steps after a refused create."""
        when = ["--effective-date", day.isoformat()]
        steps = {"create": await self.cli("run", "create", run_id, "--by", CREATOR, "--due-on", due_on.isoformat(), *when)}
        if steps["create"]["exit_code"]:
            return steps  # RUN_EMPTY: nothing due
        if self_approve:
            steps["self_approval"] = await self.cli("run", "approve", run_id, "--by", CREATOR, *when)
        steps["approve"] = await self.cli("run", "approve", run_id, "--by", APPROVER, *when)
        steps["export"] = await self.cli("run", "export", run_id, "--format", file_format, *when)
        return steps


def _append(path: Path, text: str) -> None:
    with open(path, "a") as log:
        log.write(text)


async def _matched(dsn: str, council: str, invoice_ids: list[str]) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["invoice_id"] for r in await conn.fetch(
            "SELECT invoice_id FROM invoices WHERE council_id = $1 AND status = 'matched' AND invoice_id = ANY($2) "
            "ORDER BY invoice_id", council, invoice_ids)]
    finally:
        await conn.close()


async def statement_for(dsn: str, council: str, run_ids: list[str], day: date, out_dir: Path,
                        return_every: int, n_foreign: int) -> Path:
    """The bank's camt.053 for the runs' payments: settled, every `return_every`-th returned (AC04),
    and one debit the council never instructed."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT end_to_end_id, paid_pence FROM payments WHERE council_id = $1 AND run_id = ANY($2) "
                                "AND status = 'instructed' ORDER BY payment_id", council, run_ids)
    finally:
        await conn.close()
    settled = [(r["end_to_end_id"], r["paid_pence"]) for n, r in enumerate(rows) if (n + 1) % return_every]
    returned = [(r["end_to_end_id"], r["paid_pence"], "AC04") for n, r in enumerate(rows) if not (n + 1) % return_every]
    path = out_dir / f"statement-{council}-{day:%Y%m%d}.camt053.xml"
    path.write_bytes(camt053(f"STMT-{council}-{day:%Y%m%d}", IBAN, day, settled, returned,
                             foreign=[(f"E-NOT-OURS-{n_foreign}", 12_345)]))
    return path


async def _cycle(desk: CouncilDesk, k: int, pending: list, return_every: int, decisions: Decisions | None) -> CycleLog:
    demo = desk.demo
    log = CycleLog(YEAR_START + timedelta(days=28 * k - 1))
    day = log.day
    arrived = [inv for inv in pending if inv[0] <= day]
    del pending[:len(arrived)]
    dp_run, inv_run = f"DP-{day:%Y%m%d}", f"INV-{day:%Y%m%d}"

    await demo.send([(cid, c) for _, cid, c in arrived])
    log.invoices_received = len(arrived)
    if decisions is not None:  # the case system's decisions known by now
        await decisions(day)
    # Invoices are approved only once the DP run is made, so it holds DPs alone.
    log.runs[dp_run] = await desk.run(dp_run, day, day + timedelta(days=28), "bacs18", self_approve=k == 0)

    async def invoices() -> None:
        matched = await _matched(demo.dsn, demo.council, [c.invoice_id for _, _, c in arrived])
        await demo.send([(f"approve-{i}", icmd.ApproveInvoice(
            invoice_id=i, provider_id=c.provider_id, approved_by=FINANCE, effective_date=day))
            for i, c in ((c.invoice_id, c) for _, _, c in arrived) if i in set(matched)])
        log.invoices_approved = len(matched)
        if matched:
            log.runs[inv_run] = await desk.run(inv_run, day, day, "pain001", self_approve=False)

    await invoices()
    paid = [r for r, steps in log.runs.items() if steps.get("export", {}).get("exit_code") == 0]
    if paid:
        statement = await statement_for(demo.dsn, demo.council, paid, day + timedelta(days=3), demo.out_dir,
                                        return_every, k)
        log.statement = {"file": str(statement), **await desk.cli("statement", "import", str(statement))}
    return log


async def payments_year(demo: PaymentsDemo, valid: list[Message], *, return_every: int = 97,
                        cycles: int = CYCLES, decisions: Decisions | None = None, progress=print) -> list[CycleLog]:
    """Schedules, then `cycles` four-weekly cycles (see the module docstring); what each cycle did.
    `decisions(day)`, when given, sends the case system's decisions known by a cycle's day (and waits
    until the payments read model has them); each cycle calls it after taking in its invoices."""
    await demo.settled()  # the read model holds every budget, provider and order
    _, _, providers = await _read_model(demo.dsn, demo.council)
    all_budgets = await _all_budget_refs(demo.dsn, demo.council)
    demo.directory.write_text(directory_csv(all_budgets + [p["ref"] for p in providers]))
    schedules, invoices = year_commands(valid)
    started = time.perf_counter()
    await demo.send(schedules)
    progress(f"  payments: {len(schedules):,} DP schedules set up ({time.perf_counter() - started:.1f} s)")
    desk, pending, logs = CouncilDesk(demo), sorted(invoices, key=lambda i: (i[0], i[1])), []
    for k in range(cycles):
        t0 = time.perf_counter()
        log = await _cycle(desk, k, pending, return_every, decisions)
        logs.append(log)
        counts = {r: s.get("create", {}).get("run", {}).get("payment_count", 0) for r, s in log.runs.items()}
        st = log.statement
        progress(f"  payments: cycle {k + 1:>2} {log.day}: {log.invoices_received:>3} invoices in, "
                 f"{log.invoices_approved:>3} approved; runs {', '.join(f'{r} {n:,}' for r, n in counts.items())}; "
                 f"statement {st.get('settled', 0):,} settled, {st.get('returned', 0)} returned "
                 f"({time.perf_counter() - t0:.1f} s)")
    return logs


async def _all_budget_refs(dsn: str, council: str) -> list[str]:
    """Payee tokens of every budget (also those ended or closed by a death: their last periods are paid)."""
    conn = await asyncpg.connect(dsn)
    try:
        return [r[0] for r in await conn.fetch("SELECT coalesce(dp_account_ref, person_ref) FROM budgets "
                                               "WHERE council_id = $1", council)]
    finally:
        await conn.close()


def cycle_totals(logs: list[CycleLog]) -> dict:
    """Totals over the year's cycles for the summary."""
    t: Counter = Counter()
    files = []
    for log in logs:
        t["invoices_received"] += log.invoices_received
        t["invoices_approved"] += log.invoices_approved
        for steps in log.runs.values():
            if steps.get("create", {}).get("exit_code") == 0:
                t["runs"] += 1
                t["payments_instructed"] += steps["create"]["run"]["payment_count"]
            files += [f["path"] for f in steps.get("export", {}).get("files", [])]
            if "self_approval" in steps:
                t["self_approval_refused"] += steps["self_approval"].get("reason_code") == "SELF_APPROVAL"
        for key in ("settled", "returned"):
            t[f"statement_{key}"] += log.statement.get(key, 0)
        t["statement_unmatched"] += len(log.statement.get("unmatched", []))
        t["statements"] += bool(log.statement)
    return {**t, "files": files}
